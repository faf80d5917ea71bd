# odernn — build, dependencies, tests, checks, benchmarks.
#
#   make verify   install what is missing, build, run the standard tier of theorem checks
#   make test     install what is missing, build, run the unit tests and the quick tier
#   make asan     the unit tests and the quick tier under AddressSanitizer and UBSan
#   make bench    benchmarks (not run by CI)
#   make plots    the figures (gnuplot) into results/figures/, running the experiments whose
#                 data are missing first
#   make clean
#
# Library: build/libodernn.a from cells/, solvers/, analysis/.
# Program: build/odernn from cli/ and experiments/.

CC      ?= cc
CFLAGS  ?= -O2
CFLAGS  += -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Wpedantic -Wshadow -g
CPPFLAGS += -Icells -Isolvers -Ianalysis -Iexperiments
# OpenMP: region maps and sweeps run their grid points in parallel (results do not depend on
# the thread count: every point has its own seeded cell and input).
OMPFLAGS = -fopenmp
# GSL without its own CBLAS: OpenBLAS provides cblas_* for both us and GSL.
LDLIBS  = -lsundials_arkode -lsundials_kinsol -lsundials_cvodes -lsundials_nvecserial -lsundials_sunmatrixdense \
          -lsundials_sunlinsoldense -lsundials_sunlinsolspgmr -lsundials_generic \
          -llapacke -lgsl -lopenblas -lcjson -lreadline -lquadmath -lm

BUILD   ?= build
TIER    ?= standard

LIB_SRC  = $(wildcard cells/*.c solvers/*.c analysis/*.c)
EXP_SRC  = $(wildcard experiments/*.c)
CLI_SRC  = $(wildcard cli/*.c)
TEST_SRC = $(wildcard tests/*.c)
BENCH_SRC = $(wildcard bench/*.c)

LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
EXP_OBJ  = $(EXP_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ = $(TEST_SRC:%.c=$(BUILD)/%.o)

LIB      = $(BUILD)/libodernn.a
PROG     = $(BUILD)/odernn
TESTS    = $(BUILD)/odernn-tests
BENCH    = $(BUILD)/odernn-bench

.PHONY: all deps verify test unit quick asan bench plots clean

all: $(PROG)

deps:
	@sh scripts/install-deps.sh

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(FILE_CFLAGS) $(OMPFLAGS) -MMD -MP -c $< -o $@

# vmath.c's tanh loop vectorises only when compares may not trap (it reads no FP flags)
$(BUILD)/cells/vmath.o: FILE_CFLAGS = -fno-trapping-math

$(LIB): $(LIB_OBJ)
	$(AR) rcs $@ $^

$(PROG): $(CLI_OBJ) $(EXP_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(OMPFLAGS) -o $@ $(CLI_OBJ) $(EXP_OBJ) $(LIB) $(LDFLAGS) $(LDLIBS)

$(TESTS): $(TEST_OBJ) $(EXP_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(OMPFLAGS) -o $@ $(TEST_OBJ) $(EXP_OBJ) $(LIB) $(LDFLAGS) -lcriterion $(LDLIBS)

$(BENCH): $(BENCH_SRC) $(LIB) | deps
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OMPFLAGS) -o $@ $(BENCH_SRC) $(LIB) $(LDFLAGS) $(LDLIBS)

# The main job: every theorem check of the standard tier.
verify: $(PROG)
	./$(PROG) verify --tier $(TIER)

# Unit tests (Criterion), then the quick tier of checks.
test: unit quick

unit: $(TESTS) $(PROG)
	ODERNN=./$(PROG) ./$(TESTS) --jobs 2

quick: $(PROG)
	./$(PROG) verify --tier quick --json $(BUILD)/verify-quick.json --report $(BUILD)/verify-quick.md

# Sanitizers: a separate build tree, the same tests.
asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" test

bench: $(BENCH)
	./$(BENCH)

# The figures: first the data that are missing (only those; a command this build lacks, e.g.
# `odernn ntk`, is skipped with a note and so is its figure), then every figure in every format.
RESULTS ?= results
plots: $(PROG)
	@./$(PROG) plot all --missing --data-dir $(RESULTS) | while read -r args; do \
	    cmd=$${args%% *}; \
	    if ./$(PROG) $$cmd --help >/dev/null 2>&1; then \
	        echo "odernn $$args"; ./$(PROG) $$args || exit 1; \
	    else \
	        echo "note: 'odernn $$cmd' is not part of this build: its figure is skipped"; \
	    fi; \
	done
	@for f in pdf png svg tex; do \
	    ./$(PROG) plot all --format $$f --data-dir $(RESULTS) --out-dir $(RESULTS)/figures || exit 1; \
	done

clean:
	rm -rf build build-asan

-include $(LIB_OBJ:.o=.d) $(EXP_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
