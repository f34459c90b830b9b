"""tofu conformance suite: validates any tofu implementation through testees
(spec/testee.md) against the requirements of spec/tofu-wire.md."""
