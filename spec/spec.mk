# spec/: the generator turns spec/tofu-wire.toml into code and tables.
SPEC_DEF := spec/tofu-wire.toml
GEN      := spec/gen/gen.py

.PHONY: regen-spec regen-check-spec
regen-spec:
	$(PYTHON) $(GEN)
regen-check-spec:
	$(PYTHON) $(GEN) --check
	@echo "regen-check: spec outputs current"

REGEN += regen-spec
REGEN_CHECKS += regen-check-spec
