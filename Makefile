# The README's two commands. Both provision libtorch first (idempotently, from PyPI; a LIBTORCH you exported wins).
.PHONY: run test libtorch

# The main job: build a small conv net from slim layers and train it on generated images.
run: libtorch
	cargo run --release --example quickstart

# Every check CI runs: formatting, lints (warnings denied, missing docs included), and all tests.
test: libtorch
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace

libtorch:
	@./scripts/provision-libtorch.sh >/dev/null
