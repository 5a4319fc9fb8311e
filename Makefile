# of3 build.
#   make            all programs into bin/ (with the CUDA backend when nvcc is found)
#   make CUDA=0     CPU backend only, no nvcc needed
#   make SAN=1      AddressSanitizer + UBSan build into build/san/bin (CPU backend)
#   make test       unit, command-line and bad-input tests, on the normal and the sanitizer build
#   make bench      streaming throughput benchmark (docs/PERFORMANCE.md)
#   make demo       the README's first command: run the pipeline on a bundled example
#   make format     clang-format every C/CUDA source

.DEFAULT_GOAL := all
CC      ?= cc
NVCC    ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
PROGRAMS = of3-parse of3-featurize of3-trunk of3-diffuse of3-writecif of3-inspect

ifeq ($(SAN),1)
BUILD   := build/san
BIN     := build/san/bin
CUDA    ?= 0
OPT     := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD   := build/release
BIN     := bin
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

# GPU code for every target we support plus PTX, fixed, never detected (STYLE.md 39).
CUDA_ARCHS = 80 90 100 120 121
ifeq ($(CUDA),1)
CUDA_HOME  := $(patsubst %/bin/nvcc,%,$(NVCC))
NVCCFLAGS  := -O3 -std=c++17 -Xcompiler -Wall,-Wextra,-Werror -MMD -MP \
              $(foreach a,$(CUDA_ARCHS),-gencode arch=compute_$(a),code=sm_$(a)) \
              -gencode arch=compute_121,code=compute_121 \
              -DOF3_CUDA_ARCHS='"$(foreach a,$(CUDA_ARCHS),sm_$(a)) +PTX"'
CFLAGS     += -DOF3_WITH_CUDA
CUDA_LIBS  := -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcudart_static \
              -ldl -lrt -lpthread -lstdc++
endif

COMMON_SRC  = common/error.c common/dtype.c common/bundle.c common/bundle_read.c \
              common/bundle_write.c common/outfile.c common/cli.c common/log.c common/stage.c
KERNELS_SRC = kernels/backend.c
KERNELS_CU  = $(if $(filter 1,$(CUDA)),kernels/cuda/cuda_backend.cu)

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

PARSE_OBJ     = $(call obj,of3-parse/main.c of3-parse/json_file.c)
FEATURIZE_OBJ = $(call obj,of3-featurize/main.c)
TRUNK_OBJ     = $(call obj,of3-trunk/main.c)
DIFFUSE_OBJ   = $(call obj,of3-diffuse/main.c)
WRITECIF_OBJ  = $(call obj,of3-writecif/main.c)
INSPECT_OBJ   = $(call obj,of3-inspect/main.c of3-inspect/inspect.c)
TEST_PROGS    = $(BUILD)/tests/test_bundle $(BUILD)/tests/bundle_tool $(BUILD)/tests/check_fixtures

.PHONY: all tests test bench demo format clean FORCE
all: $(addprefix $(BIN)/,$(PROGRAMS))
ifneq ($(CUDA),1)
	@echo "note: built without the CUDA backend (CUDA=0 or no nvcc): of3-trunk and of3-diffuse run on the CPU"
endif

$(COMMON_LIB): $(call obj,$(COMMON_SRC))
	rm -f $@ && $(AR) rcs $@ $^
$(KERNELS_LIB): $(call obj,$(KERNELS_SRC) $(KERNELS_CU))
	rm -f $@ && $(AR) rcs $@ $^

$(BIN)/of3-parse: $(PARSE_OBJ) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcjson
$(BIN)/of3-featurize: $(FEATURIZE_OBJ) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
$(BIN)/of3-trunk: $(TRUNK_OBJ) $(KERNELS_LIB) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(CUDA_LIBS)
$(BIN)/of3-diffuse: $(DIFFUSE_OBJ) $(KERNELS_LIB) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(CUDA_LIBS)
$(BIN)/of3-writecif: $(WRITECIF_OBJ) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
$(BIN)/of3-inspect: $(INSPECT_OBJ) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

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

bench: all $(TEST_PROGS)
	bench/pipe_throughput.sh

demo: all
	@./demo.sh

format:
	clang-format -i $(wildcard common/*.[ch] kernels/*.[ch] kernels/*/*.[ch] kernels/*/*.cu \
	    of3-*/*.[ch] tests/*.[ch])

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
