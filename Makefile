# The README's two commands. Both provision libtorch first with slim-setup (idempotently, from PyPI, into
# .libtorch/, which .cargo/config.toml names; a LIBTORCH you exported wins, checked for version 2.13.0).
.PHONY: run test libtorch mpi

# The main job: provisions Fashion-MNIST (Debian's dataset-fashion-mnist, unpacked into data/ unless installed),
# trains the CIFAR ResNet-8 of the seeds on its 60,000 training images at their own 28x28 (bfloat16 autocast,
# float32 where the CPU lacks bfloat16 instructions), and evaluates the 10,000 test images. Each run starts afresh
# in $(MAIN_DIR); the README explains the recipe and gives longer ones.
MAIN_DIR ?= logs/fashion_mnist_resnet8
MAIN_MODEL = --model_name resnet_cifar_8 --preprocessing_name lenet
MAIN_RECIPE = $(MAIN_MODEL) --train_image_size 28 --batch_size 128 --optimizer momentum --momentum 0.9 \
	--learning_rate 0.4 --learning_rate_decay_type cosine --end_learning_rate 0.0001 --weight_decay 0.0005 \
	--label_smoothing 0.1 --max_number_of_steps 2500 --log_every_n_steps 500 --save_summaries_secs 30 \
	--num_preprocessing_threads 1 --seed 0 --precision bf16

run: libtorch
	cargo build --release --example train_image_classifier --example eval_image_classifier
	rm -rf $(MAIN_DIR)
	SLIM_FASHION_MNIST="$$(./scripts/provision-fashion-mnist.sh)" cargo run --release -q --example \
		train_image_classifier -- --dataset_name fashion_mnist --train_dir $(MAIN_DIR)/train $(MAIN_RECIPE)
	SLIM_FASHION_MNIST="$$(./scripts/provision-fashion-mnist.sh)" cargo run --release -q --example \
		eval_image_classifier -- --dataset_name fashion_mnist $(MAIN_MODEL) --eval_image_size 28 \
		--checkpoint_path $(MAIN_DIR)/train --eval_dir $(MAIN_DIR)/eval
	@echo "TensorBoard: tensorboard --logdir $(MAIN_DIR)"

# Every check CI runs: formatting, lints (warnings denied, missing docs included), the API docs (broken links
# denied), and all tests, with the MPI backend (the distributed tests launch mpirun). Lints and docs only
# type-check, so they skip the C++ of libtorch's wrappers and slim's (doc-only), which the tests' build compiles.
test: libtorch mpi
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --features slim-core/doc-only,mpi -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --features slim-core/doc-only,mpi
	cargo test --workspace --features mpi

libtorch:
	@cargo run --quiet -p tch-slim-setup -- libtorch --into .libtorch >/dev/null

# MPI for the distributed tests: yours (MPICC, or mpicc on the PATH), else Open MPI from PyPI into .mpi/, which
# .cargo/config.toml names.
mpi:
	@cargo run --quiet -p tch-slim-setup -- mpi --into .mpi >/dev/null
