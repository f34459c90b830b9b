-- tofu.lua: Wireshark dissector for the tofu message protocol over TCP.
--
--   wireshark -X lua_script:interop/wireshark/tofu.lua capture.pcap
--   tshark -X lua_script:interop/wireshark/tofu.lua -r capture.pcap -O tofu
--   (or copy it into ~/.local/lib/wireshark/plugins/)
--
-- A tofu stream is back-to-back frames: a 16-byte big-endian header
-- (channel u16, proto u8, status u8, message_id u64, thl u16, bl u16), thl
-- bytes of "name:value\r\n" text headers and bl bytes of body
-- (spec/tofu-wire.md, WIRE-1 .. WIRE-4). Frames are reassembled across TCP
-- segments and several frames in one segment are each shown.
--
-- The TCP port (default 7099, Zig tofu's default) is a preference:
-- Edit > Preferences > Protocols > TOFU, or `-o tofu.tcp_port:N`; any other
-- port works through "Decode As...".
--
-- Text headers are split exactly as a tofu receiver's iterator does
-- (WIRE-4.2: lines end only at CR LF, empty lines are skipped, name and value
-- split at the first ':', the value trimmed of SP/HTAB, the name untouched,
-- an empty name ends the iteration), so the pairs shown are the pairs an
-- application gets. `tofu.verdict` is the conforming-receiver check
-- (WIRE-7.1): "valid" or the first failing error class.

local tofu = Proto("tofu", "tofu message protocol")

local OPCODES = {
    [0] = "Request", [1] = "Response", [2] = "Signal", [3] = "HelloRequest",
    [4] = "HelloResponse", [5] = "ByeRequest", [6] = "ByeResponse", [7] = "ByeSignal",
    [8] = "WelcomeRequest", [9] = "WelcomeResponse",
}
-- type and role of each defined opcode (spec/tofu-wire.toml [[opcodes]])
local OP_TYPE = { [0] = "regular", "regular", "regular", "hello", "hello", "bye", "bye", "bye",
                  "welcome", "welcome" }
local OP_ROLE = { [0] = "request", "response", "signal", "request", "response", "request",
                  "response", "signal", "request", "response" }
local ON_WIRE_MAX = 7 -- opcodes 0..7 may be on the wire

local STATUSES = {
    [0] = "success", "not_implemented_yet", "wrong_address", "not_allowed", "null_message",
    "invalid_message", "invalid_op_code", "invalid_headers_len", "invalid_body_len",
    "invalid_more_usage", "invalid_channel_number", "invalid_mchn_group", "invalid_message_id",
    "invalid_address", "uds_path_not_found", "notification_disabled", "notification_failed",
    "peer_disconnected", "communication_failed", "pool_empty", "allocation_failed",
    "receiver_update", "channel_closed", "shutdown_started", "connect_failed", "listen_failed",
    "accept_failed", "send_failed", "recv_failed", "setsockopt_failed", "processing_failed",
    "unknown_error",
}

local HEADER_SIZE = 16

local f = tofu.fields
f.channel = ProtoField.uint16("tofu.channel", "Channel number", base.DEC_HEX)
f.proto = ProtoField.uint8("tofu.proto", "Proto", base.HEX)
f.opcode = ProtoField.uint8("tofu.opcode", "Opcode", base.DEC, OPCODES, 0x0F)
f.origin = ProtoField.uint8("tofu.origin", "Origin", base.DEC, { [0] = "application", [1] = "engine" }, 0x10)
f.more = ProtoField.uint8("tofu.more", "More", base.DEC, { [0] = "last", [1] = "more follow" }, 0x20)
f.internal_a = ProtoField.uint8("tofu.internal_a", "internal_a (oob)", base.DEC, nil, 0x40)
f.internal_b = ProtoField.uint8("tofu.internal_b", "internal_b", base.DEC, nil, 0x80)
f.status = ProtoField.uint8("tofu.status", "Status", base.DEC, STATUSES)
f.message_id = ProtoField.uint64("tofu.message_id", "Message id", base.DEC)
f.thl = ProtoField.uint16("tofu.thl", "Text headers length", base.DEC)
f.bl = ProtoField.uint16("tofu.bl", "Body length", base.DEC)
f.text_headers = ProtoField.bytes("tofu.text_headers", "Text headers")
f.header = ProtoField.string("tofu.header", "Text header")
f.header_name = ProtoField.bytes("tofu.header.name", "Name")
f.header_value = ProtoField.bytes("tofu.header.value", "Value")
-- The same bytes as text (bytes outside 0x20-0x7e as \xNN), for reading
-- and for filters such as tofu.header.name_text == "~connect_to".
f.header_name_text = ProtoField.string("tofu.header.name_text", "Name (text)")
f.header_value_text = ProtoField.string("tofu.header.value_text", "Value (text)")
f.body = ProtoField.bytes("tofu.body", "Body")
f.verdict = ProtoField.string("tofu.verdict", "Receiver verdict")

local e_refused = ProtoExpert.new("tofu.refused", "A conforming receiver refuses this frame",
    expert.group.PROTOCOL, expert.severity.WARN)
local e_iter_end = ProtoExpert.new("tofu.iteration_end", "Empty header name: iteration ends here",
    expert.group.PROTOCOL, expert.severity.NOTE)
tofu.experts = { e_refused, e_iter_end }

tofu.prefs.tcp_port = Pref.uint("TCP port", 7099, "TCP port of tofu traffic (Zig tofu's default is 7099)")

-- The conforming-receiver check, in the order of WIRE-7.1.
local function verdict(proto, status, mid_is_zero)
    local op = bit32.band(proto, 0x0F)
    if op > ON_WIRE_MAX then return "bad_opcode" end
    if bit32.band(proto, 0x10) ~= 0 then return "forged_origin" end
    if status ~= 0 then return "nonzero_status" end
    if bit32.band(proto, 0x20) ~= 0 and OP_TYPE[op] ~= "regular" then return "more_not_allowed" end
    if OP_ROLE[op] == "response" and mid_is_zero then return "zero_response_id" end
    return "valid"
end

local function is_trim(c)
    return c == 0x20 or c == 0x09
end

-- Printable form of header bytes for labels.
local function printable(s)
    return (s:gsub("[^\32-\126]", function(c) return string.format("\\x%02x", c:byte()) end))
end

-- Adds one item per text header, split like the tofu iterator (WIRE-4.2).
local function add_text_headers(tvb, tree, off, len)
    local s = tvb:raw(off, len)
    local pos = 1 -- Lua index into s
    local n = #s
    while pos <= n do
        if s:sub(pos, pos + 1) == "\r\n" then
            pos = pos + 2 -- empty line: skipped
        else
            local e = s:find("\r\n", pos, true)
            local line_end, next_pos
            if e then
                line_end, next_pos = e - 1, e + 2
            else
                line_end, next_pos = n, n + 1
            end
            local c = s:find(":", pos, true)
            if c and c > line_end then c = nil end
            local name_end, vs, ve
            if c then
                name_end = c - 1
                vs, ve = c + 1, line_end
                while vs <= ve and is_trim(s:byte(vs)) do vs = vs + 1 end
                while ve >= vs and is_trim(s:byte(ve)) do ve = ve - 1 end
            else
                name_end = line_end
                vs, ve = line_end + 1, line_end
            end
            local line_tvb = tvb(off + pos - 1, line_end - pos + 1 + (e and 2 or 0))
            if name_end < pos then
                -- an empty name ends the iteration: what follows is not
                -- seen by a tofu application
                local it = tree:add(f.header, line_tvb, "")
                it:set_text("Text header with empty name (iteration ends)")
                it:add_proto_expert_info(e_iter_end)
                return
            end
            local name = s:sub(pos, name_end)
            local value = s:sub(vs, ve)
            local item = tree:add(f.header, line_tvb, printable(name) .. ": " .. printable(value))
            local name_tvb = tvb(off + pos - 1, name_end - pos + 1)
            local value_tvb = tvb(off + vs - 1, ve - vs + 1)
            item:add(f.header_name, name_tvb)
            item:add(f.header_name_text, name_tvb, printable(name))
            item:add(f.header_value, value_tvb)
            item:add(f.header_value_text, value_tvb, printable(value))
            pos = next_pos
        end
    end
end

local function frame_len(tvb, _pinfo, offset)
    return HEADER_SIZE + tvb(offset + 12, 2):uint() + tvb(offset + 14, 2):uint()
end

local function dissect_frame(tvb, pinfo, tree)
    local proto = tvb(2, 1):uint()
    local status = tvb(3, 1):uint()
    local mid = tvb(4, 8):uint64()
    local thl = tvb(12, 2):uint()
    local bl = tvb(14, 2):uint()
    local op = bit32.band(proto, 0x0F)
    local opname = OPCODES[op] or ("opcode " .. op)
    local v = verdict(proto, status, mid == UInt64(0))

    pinfo.cols.protocol = "tofu"
    local summary = string.format("%s ch=%d id=%s thl=%d bl=%d", opname, tvb(0, 2):uint(), tostring(mid), thl, bl)
    if v ~= "valid" then summary = summary .. " [" .. v .. "]" end
    local info = tostring(pinfo.cols.info)
    if info:find("^tofu: ") then
        pinfo.cols.info:append("; " .. summary)
    else
        pinfo.cols.info = "tofu: " .. summary
    end

    local t = tree:add(tofu, tvb(0, HEADER_SIZE + thl + bl), "tofu " .. summary)
    t:add(f.channel, tvb(0, 2))
    local p = t:add(f.proto, tvb(2, 1))
    p:add(f.opcode, tvb(2, 1))
    p:add(f.origin, tvb(2, 1))
    p:add(f.more, tvb(2, 1))
    p:add(f.internal_a, tvb(2, 1))
    p:add(f.internal_b, tvb(2, 1))
    t:add(f.status, tvb(3, 1))
    t:add(f.message_id, tvb(4, 8))
    t:add(f.thl, tvb(12, 2))
    t:add(f.bl, tvb(14, 2))
    if thl > 0 then
        local th = t:add(f.text_headers, tvb(HEADER_SIZE, thl))
        add_text_headers(tvb, th, HEADER_SIZE, thl)
    end
    if bl > 0 then
        t:add(f.body, tvb(HEADER_SIZE + thl, bl))
    end
    local vi = t:add(f.verdict, v)
    vi:set_generated()
    if v ~= "valid" then vi:add_proto_expert_info(e_refused, "A conforming receiver refuses this frame: " .. v) end
    return HEADER_SIZE + thl + bl
end

function tofu.dissector(tvb, pinfo, tree)
    dissect_tcp_pdus(tvb, tree, HEADER_SIZE, frame_len, dissect_frame, true)
    return tvb:len()
end

local tcp_table = DissectorTable.get("tcp.port")
local registered_port = tofu.prefs.tcp_port
tcp_table:add(registered_port, tofu)

function tofu.prefs_changed()
    if registered_port ~= tofu.prefs.tcp_port then
        if registered_port ~= 0 then tcp_table:remove(registered_port, tofu) end
        registered_port = tofu.prefs.tcp_port
        if registered_port ~= 0 then tcp_table:add(registered_port, tofu) end
    end
end
