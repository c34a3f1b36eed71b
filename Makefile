# vitc — the one build entry point.
#   make               build/libvitc.a, build/libvitc.so, build/vitc, build/vitc.pc
#   make demo          the main job on the embedded default: a random-weight
#                      google/vit-base-patch16-224-in21k-shaped model + data/sample.jpg
#   make test          build and run the whole test suite (last line: N passed, N failed)
#   make test-extended also run the tests that need ../shared (larger fixtures)
#   make install       PREFIX=/usr/local DESTDIR=
#   make format / clean
# Variables: SAN=address,undefined | thread, DEBUG=1, BUILD=dir, WERROR=1,
#            VITC_CUDA=0|1 (default: 1 when nvcc is found), CUDA_ARCH="80 90".

BUILD   ?= build
PREFIX  ?= /usr/local
CC      ?= cc
PKGS    := libjpeg libpng jansson libexif libcurl libwebp libwebpdemux libtiff-4

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifeq ($(PKG_LIBS),)
$(error missing libraries: install pkg-config libjpeg-dev libpng-dev libjansson-dev libexif-dev libcurl4-openssl-dev libwebp-dev libtiff-dev (see README))
endif

# libmicrohttpd: only the command links it (`vitc serve`), not the library.
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)
ifeq ($(MHD_LIBS),)
$(error missing library: install libmicrohttpd-dev (see README))
endif

OPT     := $(if $(DEBUG),-O0 -g,-O2 -g)
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wpointer-arith -Wno-unused-parameter \
           $(if $(WERROR),-Werror)
SANFL   := $(if $(SAN),-fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all)
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFL) -MMD -MP -Iinclude $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lpthread -lm
LDFLAGS += $(SANFL)

# The library: one folder per layer or leaf (see README, "Layout"); its files
# include each other as "folder/file.h" from src/.
LIB_SRC  := $(wildcard src/*/*.c)
CLI_SRC  := $(wildcard cli/*.c cli/serve/*.c)
# Unit tests mirror src/: tests/unit/FOLDER/test_NAME.c builds $(BUILD)/tests/test_NAME.
TEST_SRC := $(wildcard tests/unit/*/test_*.c)

# ---- CUDA ----
# The CUDA backend (src/cuda/*.cu) is built when nvcc is found (PATH, then
# /usr/local/cuda/bin) unless VITC_CUDA=0; without it, src/cuda/backend_cuda_none.c says so.
# cudart is linked statically: it loads the driver (libcuda.so.1) only when a CUDA ctx is
# made, and cuBLASLt is opened with dlopen then, so everything built here still links and
# runs on a machine without a GPU, a driver or the CUDA libraries. Code for sm_80 and
# sm_90, plus sm_90 PTX for newer GPUs to compile at load.
NVCC      ?= $(or $(shell command -v nvcc 2>/dev/null),$(wildcard /usr/local/cuda/bin/nvcc))
VITC_CUDA ?= $(if $(NVCC),1,0)
CUDA_ARCH ?= 80 90
ifeq ($(VITC_CUDA),1)
ifeq ($(NVCC),)
$(error VITC_CUDA=1 but no nvcc on PATH or in /usr/local/cuda/bin)
endif
# nvcc on PATH may be a wrapper script elsewhere (/usr/local/bin), so ask nvcc itself
# where its toolkit is (the _HERE_ line of a dry run) rather than following the path.
ifeq ($(origin CUDA_HOME),undefined)
CUDA_HOME   := $(patsubst %/bin,%,$(or $(shell $(NVCC) --dryrun -x cu -c /dev/null -o /dev/null 2>&1 \
                 | sed -n 's/^\#\$$ _HERE_=//p'),$(patsubst %/,%,$(dir $(realpath $(NVCC))))))
endif
CUDA_LIBDIR := $(firstword $(foreach d,lib64 lib targets/x86_64-linux/lib,\
                 $(if $(wildcard $(CUDA_HOME)/$(d)/libcudart_static.a),$(CUDA_HOME)/$(d))))
ifeq ($(CUDA_LIBDIR),)
$(error VITC_CUDA=1 but no libcudart_static.a under $(CUDA_HOME) (nvcc: $(NVCC)); set CUDA_HOME or VITC_CUDA=0)
endif
CUDA_LIBS   := -L$(CUDA_LIBDIR) -lcudart_static -ldl -lrt
LIB_SRC     := $(filter-out src/cuda/backend_cuda_none.c,$(LIB_SRC))
CU_SRC      := $(wildcard src/cuda/*.cu)
NVFLAGS     := -std=c++17 $(if $(DEBUG),-O0 -g,-O2 -g) -MMD -MP -Iinclude -Isrc -DVITC_BUILD \
               -DVITC_CUDA_LIBDIR='"$(CUDA_LIBDIR)"' $(if $(WERROR),-Werror all-warnings) \
               $(foreach a,$(CUDA_ARCH),-gencode arch=compute_$(a),code=sm_$(a)) \
               -gencode arch=compute_$(lastword $(CUDA_ARCH)),code=compute_$(lastword $(CUDA_ARCH))
# No exceptions, RTTI or guarded statics: the objects then need no C++ runtime.
comma       := ,
NVHOST      := -Wall,-Wextra,-fvisibility=hidden,-fno-exceptions,-fno-rtti,-fno-threadsafe-statics$(if $(WERROR),$(comma)-Werror)
LDLIBS      += $(CUDA_LIBS)
endif
# Switching VITC_CUDA in one build directory relinks the libraries.
CUDA_STAMP := $(BUILD)/cuda-$(VITC_CUDA).stamp

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(CU_SRC:%.cu=$(BUILD)/%.o)
PIC_OBJ  := $(LIB_SRC:%.c=$(BUILD)/pic/%.o) $(CU_SRC:%.cu=$(BUILD)/pic/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(addprefix $(BUILD)/tests/,$(basename $(notdir $(TEST_SRC))))
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
REPLAY_BIN := $(FUZZ_SRC:fuzz/fuzz_%.c=$(BUILD)/fuzz/replay_%)

.PHONY: all demo test test-extended install format clean FORCE
all: $(BUILD)/libvitc.a $(BUILD)/libvitc.so $(BUILD)/vitc $(BUILD)/vitc.pc

$(BUILD)/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc -DVITC_BUILD -fvisibility=hidden -c $< -o $@

$(BUILD)/pic/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc -DVITC_BUILD -fvisibility=hidden -fPIC -c $< -o $@

$(BUILD)/src/%.o: src/%.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVFLAGS) -Xcompiler $(NVHOST) -c $< -o $@

$(BUILD)/pic/src/%.o: src/%.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVFLAGS) -Xcompiler $(NVHOST),-fPIC -c $< -o $@

$(CUDA_STAMP):
	@mkdir -p $(@D)
	@rm -f $(BUILD)/cuda-*.stamp
	@touch $@

# Kernel tables beyond the x86-64 baseline get their instruction sets per
# file; src/cpu/dispatch.c (and src/preprocess/resample.c for its passes) calls
# them only on CPUs that run them.
ifneq ($(findstring x86_64,$(shell $(CC) -dumpmachine)),)
ISA_AVX2   := -mavx2 -mfma
ISA_AVX512 := -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma
$(BUILD)/src/cpu/kernels_avx2.o $(BUILD)/pic/src/cpu/kernels_avx2.o: CFLAGS += $(ISA_AVX2)
$(BUILD)/src/cpu/kernels_avx512.o $(BUILD)/pic/src/cpu/kernels_avx512.o: CFLAGS += $(ISA_AVX512)
$(BUILD)/src/cpu/kernels_bf16_avx512.o $(BUILD)/pic/src/cpu/kernels_bf16_avx512.o: CFLAGS += $(ISA_AVX512) -mavx512bf16
$(BUILD)/src/cpu/kernels_attn_bf16_avx512.o $(BUILD)/pic/src/cpu/kernels_attn_bf16_avx512.o: CFLAGS += $(ISA_AVX512) -mavx512bf16
$(BUILD)/src/cpu/kernels_i8_avx512.o $(BUILD)/pic/src/cpu/kernels_i8_avx512.o: CFLAGS += $(ISA_AVX512) -mavx512vnni
$(BUILD)/src/preprocess/resample_avx2.o $(BUILD)/pic/src/preprocess/resample_avx2.o: CFLAGS += $(ISA_AVX2)
$(BUILD)/src/preprocess/resample_avx512.o $(BUILD)/pic/src/preprocess/resample_avx512.o: CFLAGS += $(ISA_AVX512)
endif

$(BUILD)/cli/%.o: cli/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(MHD_CFLAGS) -c $< -o $@

$(BUILD)/libvitc.a: $(LIB_OBJ) $(CUDA_STAMP)
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(BUILD)/libvitc.so: $(PIC_OBJ) $(CUDA_STAMP)
	$(CC) -shared -Wl,-soname,libvitc.so.0 $(LDFLAGS) -o $@ $(PIC_OBJ) $(LDLIBS)

$(BUILD)/vitc: $(CLI_OBJ) $(BUILD)/libvitc.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(MHD_LIBS)

# One rule per unit test (its source sits in a folder, its program does not).
define unit_test_rule
$(BUILD)/tests/$(basename $(notdir $(1))): $(1) tests/test.h $(BUILD)/libvitc.a
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -Isrc -Itests -I. -o $$@ $$< $(BUILD)/libvitc.a $$(LDFLAGS) $$(LDLIBS)
endef
$(foreach t,$(TEST_SRC),$(eval $(call unit_test_rule,$(t))))

# vitc.pc names PREFIX, so it is rewritten whenever its text changes (a `make install
# PREFIX=...` after a plain `make`) and otherwise left alone. Version: from vitc.h.
VERSION := $(shell awk '/^.define VITC_VERSION_(MAJOR|MINOR|PATCH) / {v = v s $$3; s = "."} END {print v}' include/vitc.h)
$(BUILD)/vitc.pc: FORCE
	@mkdir -p $(@D)
	@printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: vitc\nDescription: Vision Transformer inference in C\nVersion: %s\nRequires.private: %s\nLibs: -L$${libdir} -lvitc\nLibs.private: -lpthread -lm%s\nCflags: -I$${includedir}\n' \
	    '$(PREFIX)' '$(VERSION)' '$(PKGS)' '$(if $(CUDA_LIBS), $(CUDA_LIBS))' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@ && echo "wrote $@"; fi
FORCE:

DEMO_MODEL := $(BUILD)/demo/vit-base-patch16-224-in21k
demo: all
	@test -f $(DEMO_MODEL)/model.safetensors || $(BUILD)/vitc init $(DEMO_MODEL) --preset vit-base-patch16-224-in21k --seed 0
	$(BUILD)/vitc info $(DEMO_MODEL)
	$(BUILD)/vitc embed $(DEMO_MODEL) data/sample.jpg -o $(BUILD)/demo/sample.pooler_output.npy
	@echo "wrote $(BUILD)/demo/sample.pooler_output.npy"

# Fuzz targets: `make test` runs each as a plain corpus replay (fuzz/replay.c supplies main);
# `make fuzz` builds build-fuzz/fuzz/fuzz_<name> for libFuzzer with clang, ASan and UBSan.
$(BUILD)/fuzz/replay_%: fuzz/fuzz_%.c fuzz/replay.c fuzz/fuzz.h $(BUILD)/libvitc.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc -o $@ $< fuzz/replay.c $(BUILD)/libvitc.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(BUILD)/libvitc.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc -fsanitize=fuzzer -o $@ $< $(BUILD)/libvitc.a $(LDFLAGS) $(LDLIBS)

.PHONY: fuzz fuzz-bins
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang SAN=fuzzer-no-link,address,undefined fuzz-bins
fuzz-bins: $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)

test: all $(TEST_BIN) $(REPLAY_BIN)
	BUILD=$(BUILD) tests/run.sh

test-extended: all $(TEST_BIN) $(REPLAY_BIN)
	BUILD=$(BUILD) VITC_EXTENDED=1 tests/run.sh

# The kernel micro-benchmark (not part of make test):
#   make bench-kernels [BENCH_ARGS="MAX_THREADS SECONDS TABLE MODEL_DIR"]
.PHONY: bench-kernels
bench-kernels: $(BUILD)/bench/bench_kernels
	$(BUILD)/bench/bench_kernels $(BENCH_ARGS)

$(BUILD)/bench/bench_kernels: bench/bench_kernels.c bench/bench_peak.c $(BUILD)/libvitc.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc -o $@ $< bench/bench_peak.c $(BUILD)/libvitc.a $(LDFLAGS) $(LDLIBS)

# Where each millisecond of a forward goes (not part of make test):
#   make bench-profile PROFILE_ARGS="MODEL_DIR [--precision P] [--threads 1,2] ..."
.PHONY: bench-profile
bench-profile: $(BUILD)/bench/bench_profile
	$(BUILD)/bench/bench_profile $(PROFILE_ARGS)

$(BUILD)/bench/bench_profile: bench/bench_profile.c bench/bench_peak.c $(BUILD)/libvitc.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc -o $@ $< bench/bench_peak.c $(BUILD)/libvitc.a $(LDFLAGS) $(LDLIBS)

# Decode and preprocessing times of a directory of images (bench/run_collections.sh).
$(BUILD)/bench/bench_preprocess: bench/bench_preprocess.c $(BUILD)/libvitc.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libvitc.a $(LDFLAGS) $(LDLIBS)

# The shared library as libvitc.so.VERSION, with the soname (libvitc.so.0) and the
# link-time name (libvitc.so) as symlinks.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
	    $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/vitc $(DESTDIR)$(PREFIX)/bin/vitc
	install -m 644 $(BUILD)/libvitc.a $(DESTDIR)$(PREFIX)/lib/libvitc.a
	install -m 755 $(BUILD)/libvitc.so $(DESTDIR)$(PREFIX)/lib/libvitc.so.$(VERSION)
	ln -sf libvitc.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libvitc.so.0
	ln -sf libvitc.so.0 $(DESTDIR)$(PREFIX)/lib/libvitc.so
	install -m 644 include/vitc.h $(DESTDIR)$(PREFIX)/include/vitc.h
	install -m 644 $(BUILD)/vitc.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/vitc.pc
	install -m 644 doc/vitc.1 $(DESTDIR)$(PREFIX)/share/man/man1/vitc.1

format:
	clang-format -i include/*.h src/*/*.[ch] cli/*.[ch] cli/serve/*.[ch] tests/*.h tests/unit/*/*.c fuzz/*.[ch]

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(PIC_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:=.d) $(REPLAY_BIN:=.d)
