# of3 build.
#   make            all programs into bin/ (with the CUDA backend when nvcc is found)
#   make CUDA=0     CPU backend only, no nvcc needed
#   make SAN=1      AddressSanitizer + UBSan build into build/san/bin (CPU backend)
#   make test       unit, command-line and bad-input tests, on the normal and the sanitizer build
#   make test-gpu   CUDA ops against the CPU's, both precisions, of3-diffuse and of3-trunk on the GPU
#                   (tests/gpu/diffuse.sh, trunk.sh) (on a machine with a GPU)
#   make test-full  full-size parity with OpenFold3 (default configuration, random checkpoint;
#                   slow, needs tools/reference's OpenFold3 source unless the taps exist)
#   make bench      streaming throughput benchmark; on a GPU machine also the GPU benchmark
#                   (bench/gpu_bench.py, BENCH_ARGS=...) (docs/PERFORMANCE.md)
#   make demo       the README's first command: run the pipeline on a bundled example
#   make format     clang-format every C/CUDA source

.DEFAULT_GOAL := all
CC      ?= cc
NVCC    ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
PROGRAMS = of3-parse of3-featurize of3-trunk of3-diffuse of3-writecif of3-inspect of3

ifeq ($(SAN),1)
BUILD   := build/san
BIN     := build/san/bin
SHARE   := build/san/share/of3
CUDA    ?= 0
OPT     := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD   := build/release
BIN     := bin
SHARE   := share/of3
OPT     := -O2
endif
ifeq ($(NVCC),)
CUDA    ?= 0
endif
CUDA    ?= 1

CFLAGS  ?= -g
CFLAGS  += -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror $(OPT) -MMD -MP
LDFLAGS += $(OPT)
LIBS     = -lmsgpackc -lm

# GPU code for every target we support plus PTX, fixed, never detected (STYLE.md 39). nvcc
# compiles the targets of a file in parallel (--threads 0: one per core): attention.cu's
# templates alone take 4 minutes one target after another on a 2-core machine.
CUDA_ARCHS = 80 90 100 120 121
ifeq ($(CUDA),1)
CUDA_HOME  := $(patsubst %/bin/nvcc,%,$(NVCC))
NVCCFLAGS  := -O3 -std=c++17 -Xcompiler -Wall,-Wextra,-Werror -MMD -MP --threads 0 \
              $(foreach a,$(CUDA_ARCHS),-gencode arch=compute_$(a),code=sm_$(a)) \
              -gencode arch=compute_121,code=compute_121 \
              -DOF3_CUDA_ARCHS='"$(foreach a,$(CUDA_ARCHS),sm_$(a)) +PTX"'
CFLAGS     += -DOF3_WITH_CUDA
CUDA_LIBS  := -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudart_static \
              -ldl -lrt -lpthread -lstdc++
endif

COMMON_SRC  = common/error.c common/dtype.c common/bundle.c common/bundle_read.c \
              common/bundle_write.c common/outfile.c common/cli.c common/log.c common/stage.c common/zip.c common/pickle.c common/checkpoint.c \
              common/rng.c common/sha256.c
KERNELS_SRC = kernels/backend.c kernels/cpu/norm.c kernels/cpu/linear.c kernels/cpu/elementwise.c \
              kernels/cpu/softmax.c kernels/cpu/attention.c kernels/cpu/tri_mul.c kernels/cpu/pointwise.c kernels/cpu/msa.c kernels/cpu/ops_table.c kernels/cpu/pair_embed.c \
              kernels/cpu/trunk_ops.c kernels/cpu/atom_ops.c kernels/cpu/bcast_ops.c \
              kernels/graph.c kernels/layers/weights.c kernels/layers/transition.c kernels/layers/triangle_mul.c \
              kernels/layers/triangle_att.c kernels/layers/attention_pair_bias.c kernels/layers/pairformer.c \
              kernels/layers/atom_transformer.c kernels/layers/diffusion_transformer.c kernels/layers/mha.c
KERNELS_CU  = $(if $(filter 1,$(CUDA)),kernels/cuda/cuda_backend.cu kernels/cuda/ops_table.cu kernels/cuda/warmup.cu \
              kernels/cuda/blas_loader.cu \
              kernels/cuda/norm.cu kernels/cuda/linear.cu kernels/cuda/elementwise.cu \
              kernels/cuda/pointwise.cu kernels/cuda/softmax.cu kernels/cuda/attention.cu \
              kernels/cuda/tri_mul.cu kernels/cuda/pair_embed.cu kernels/cuda/msa.cu \
              kernels/cuda/trunk_ops.cu kernels/cuda/atom_ops.cu kernels/cuda/bcast_ops.cu \
              kernels/cuda/profile.cu kernels/cuda/graph.cu)

obj = $(patsubst %.c,$(BUILD)/%.o,$(patsubst %.cu,$(BUILD)/%.cu.o,$(1)))

# Objects are rebuilt when the configuration changes (CUDA=0 after CUDA=1, other CFLAGS): the
# stamp is rewritten only when its text differs.
CONFIG       = $(CC) $(CFLAGS) | $(NVCC) $(NVCCFLAGS) | CUDA=$(CUDA)
CONFIG_STAMP = $(BUILD)/config.stamp
$(CONFIG_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(CONFIG)' | cmp -s - $@ || echo '$(CONFIG)' > $@
FORCE:
COMMON_LIB  = $(BUILD)/libof3common.a
KERNELS_LIB = $(BUILD)/libof3kernels.a

# A stage's own modules (every .c in its directory but main.c) form a library that its program
# and its unit tests (tests/test_<stage>_*.c, e.g. test_parse_ccd.c) link.
stage_lib = $(BUILD)/libof3$(1).a
stage_obj = $(call obj,$(filter-out of3-$(1)/main.c,$(wildcard of3-$(1)/*.c)))
STAGES    = parse featurize trunk diffuse writecif inspect

UNIT_TESTS = $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
TEST_PROGS = $(UNIT_TESTS) $(BUILD)/tests/bundle_tool $(BUILD)/tests/check_fixtures \
             $(BUILD)/tests/bundle_compare

.PHONY: all tests test test-gpu test-full bench demo format clean FORCE
# Data the programs find beside themselves (<bin>/../share/of3/): the Chemical Component
# Dictionary, committed compressed (data/README.md says where it comes from).
DATA = $(if $(wildcard data/ccd.bundle.gz),$(SHARE)/ccd.bundle)
$(SHARE)/ccd.bundle: data/ccd.bundle.gz
	@mkdir -p $(@D)
	gzip -dc $< > $@.tmp && mv $@.tmp $@

all: $(addprefix $(BIN)/,$(PROGRAMS)) $(DATA)
ifneq ($(CUDA),1)
	@echo "note: built without the CUDA backend (CUDA=0 or no nvcc): of3-trunk and of3-diffuse run on the CPU"
endif

$(COMMON_LIB): $(call obj,$(COMMON_SRC))
	rm -f $@ && $(AR) rcs $@ $^
$(KERNELS_LIB): $(call obj,$(KERNELS_SRC) $(KERNELS_CU))
	rm -f $@ && $(AR) rcs $@ $^

# Libraries a program needs beyond its own and common/.
DEPS_trunk    = $(KERNELS_LIB)
DEPS_diffuse  = $(KERNELS_LIB)
LIBS_parse    = -lcjson
LIBS_writecif = -lcjson
LIBS_trunk    = $(CUDA_LIBS)
LIBS_diffuse  = $(CUDA_LIBS)
own_lib = $(if $(call stage_obj,$(1)),$(call stage_lib,$(1)))

define program
$(BIN)/of3-$(1): $(BUILD)/of3-$(1)/main.o $(call own_lib,$(1)) $(DEPS_$(1)) $(COMMON_LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $(LIBS_$(1)) $$(LIBS)
$(call stage_lib,$(1)): $(call stage_obj,$(1))
	rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(foreach st,$(STAGES),$(eval $(call program,$(st))))

# The driver, bin/of3 (of3/): its modules but main.c form a library its unit tests
# (tests/test_driver_*.c) link too.
DRIVER_LIB = $(BUILD)/libof3driver.a
DEPS_driver = $(DRIVER_LIB)
$(BIN)/of3: $(BUILD)/of3/main.o $(DRIVER_LIB) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
$(DRIVER_LIB): $(call obj,$(filter-out of3/main.c,$(wildcard of3/*.c)))
	rm -f $@ && $(AR) rcs $@ $^

# tests/test_<stage>_<module>.c links that stage's library; other tests only common/.
test_stage = $(filter $(STAGES) driver,$(word 2,$(subst _, ,$(1))))
define unit_test
$(BUILD)/tests/$(1): $(BUILD)/tests/$(1).o $(if $(call test_stage,$(1)),$(call own_lib,$(call test_stage,$(1))) $(DEPS_$(call test_stage,$(1)))) $(COMMON_LIB)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $(if $(call test_stage,$(1)),$(LIBS_$(call test_stage,$(1)))) $$(LIBS)
endef
$(foreach t,$(notdir $(UNIT_TESTS)),$(eval $(call unit_test,$(t))))

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(COMMON_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<
$(BUILD)/%.cu.o: %.cu $(CONFIG_STAMP)
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -c -o $@ $<

tests: all $(TEST_PROGS)

# The suite runs twice: on the normal build and under AddressSanitizer + UBSan.
test:
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory SAN=1 tests
	@tests/run.sh

# The GPU tests (tests/gpu/): CUDA ops against the CPU's. Run on a machine with a GPU, never by
# `make test`; tools/gpu/run_on_device.sh runs this on the lent GPU machine.
GPU_TESTS = $(patsubst tests/gpu/%.c,$(BUILD)/tests/gpu/%,$(wildcard tests/gpu/test_*.c))
DIFFUSE_GPU_TESTS = $(BUILD)/tests/test_diffuse_module $(BUILD)/tests/test_diffuse_sampler \
                    $(BUILD)/tests/test_diffuse_heads
TRUNK_GPU_TESTS = $(patsubst %,$(BUILD)/tests/test_trunk_%,pairformer template msa \
                  input_embedder parity)
$(BUILD)/tests/gpu/%: $(BUILD)/tests/gpu/%.o $(KERNELS_LIB) $(COMMON_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(CUDA_LIBS) $(LIBS)
# TAPS=DIR reuses default-configuration taps made earlier (tests/full/default_parity.sh).
test-full: all
	tests/full/default_parity.sh $(TAPS)

test-gpu:
	@test "$(CUDA)" = 1 || { echo "make test-gpu: needs the CUDA build (nvcc)" >&2; exit 1; }
	@$(MAKE) --no-print-directory $(GPU_TESTS)
	@for t in $(GPU_TESTS); do echo "# $$t"; $$t || exit 1; done
	@# of3-diffuse on the GPU (issue #10): its parity tests in fp32 and bf16, determinism;
	@# the CPU programs that make its input bundle are optional (a failure there is reported)
	@$(MAKE) --no-print-directory $(DIFFUSE_GPU_TESTS) $(BIN)/of3-diffuse
	-@$(MAKE) --no-print-directory $(BIN)/of3-parse $(BIN)/of3-featurize $(BIN)/of3-trunk $(DATA)
	@BUILD=$(BUILD) BIN=$(BIN) tests/gpu/diffuse.sh
	@# of3-trunk on the GPU (issue #10): its parity tests in fp32 and bf16, the program's
	@# determinism (tests/gpu/trunk.sh)
	@$(MAKE) --no-print-directory $(TRUNK_GPU_TESTS) $(BIN)/of3-trunk
	@BUILD=$(BUILD) BIN=$(BIN) tests/gpu/trunk.sh

# The pipe benchmark everywhere; then, where nvidia-smi finds a GPU and bench/vendor/ exists
# (bench/vendor.sh), the GPU benchmark of issue #10 (bench/gpu_bench.py, arguments in BENCH_ARGS),
# else a line saying why it was not run.
bench: all $(TEST_PROGS)
	@rc=0; bench/pipe_throughput.sh || rc=$$?; bench/gpu_bench.sh $(BENCH_ARGS) || rc=$$?; exit $$rc

demo: all
	@./demo.sh

format:
	clang-format -i $(wildcard common/*.[ch] kernels/*.[ch] kernels/*/*.[ch] kernels/*/*.cu \
	    of3-*/*.[ch] of3/*.[ch] tests/*.[ch] tests/gpu/*.[ch])

clean:
	rm -rf build bin share

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
