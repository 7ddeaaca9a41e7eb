# reqlog build. `make` builds build/reqlog; `make test` runs every suite plain and under
# ASan+UBSan; `make run` records the demo and shows it; `make bench`; `make install`.
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CC       ?= cc
CFLAGS   ?= -O2 -g
SANITIZE ?= 0

PKGS     := libcurl sqlite3 libmicrohttpd libcjson libcrypto zlib libpq libzstd
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifeq ($(SANITIZE),1)
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) $(PKG_CFLAGS) -MMD -MP
# The layers (cli -> web -> recorder -> schema, docs/design.md §2) are kept by the include
# paths: each folder sees include/ (the interfaces between the parts: reqlog.h, the one
# installed, and the product-internal reqlog_web.h, reqlog_demo.h, reqlog_embedded.h)
# and its own headers only, so a cli/ or web/ file that includes a recorder/ header
# does not compile. Tests and benchmarks may look inside every part.
INC_recorder := -Iinclude -Irecorder
INC_web      := -Iinclude -Iweb
INC_cli      := -Iinclude -Icli
INC_demo     := -Iinclude -Idemo
INC_gen      := -Iinclude
INC_inside   := -Iinclude -Irecorder -Iweb -Idemo -Itests/lib
LDLIBS_ALL := $(PKG_LIBS) -lpthread -lm

LIB_SRC   := $(wildcard recorder/*.c recorder/*/*.c)
# library files the exec shim links too (capture without storage); see recorder/exec/shim/
SHIM_SHARED := capture/capsess.c capture/capbuf.c capture/bodydec.c base/util.c base/utf8.c base/dynbuf.c exec/shim_wire.c capture/record_mem.c capture/record_fill.c
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/schema_sql.o $(BUILD)/obj/gen/schema_pg_sql.o
FAKE_SRC  := $(filter-out demo/main.c,$(wildcard demo/*.c))
FAKE_OBJ  := $(FAKE_SRC:%.c=$(BUILD)/obj/%.o)
WEB_SRC   := $(wildcard web/*.c)
WEB_OBJ   := $(WEB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/assets_gen.o
ASSETS    := $(sort $(wildcard web/static/*))
# The exec shim: a shared object preloaded into unmodified libcurl programs. It shares
# the capture sources (compiled again as PIC) but never the store: no SQLite inside.
SHIM_SRC  := $(wildcard recorder/exec/shim/*.c) $(filter $(addprefix recorder/,$(SHIM_SHARED)),$(LIB_SRC))
SHIM_OBJ  := $(SHIM_SRC:%.c=$(BUILD)/pic/%.o)
CLI_SRC   := $(wildcard cli/*.c)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
INTEG_SRC := $(wildcard tests/integration/test_*.c)
INTEG_BIN := $(INTEG_SRC:tests/integration/%.c=$(BUILD)/tests/integration/%)
TESTLIB_SRC := $(wildcard tests/lib/*.c)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
# what the benchmarks share (the generated rows): linked into each of them
BENCH_LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard bench/lib/*.c))
SCHEMA    := $(sort $(wildcard schema/*.sql))
# PostgreSQL migrations (the team store, recorder/pg/), embedded as reqlog_pg_schema_files
SCHEMA_PG := $(sort $(wildcard schema/pg/*.sql))
# Fuzz targets (fuzz/README.md): fuzz/fuzz_NAME.c, each with its corpus in fuzz/corpus/NAME/.
# A new target is one new file and one corpus folder: the lists below pick it up.
FUZZ_SRC   := $(wildcard fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:fuzz/fuzz_%.c=%)
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz/replay_%)
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link

.PHONY: all run test check unit integration bench bench-deps install uninstall clean deps fuzz fuzz-targets fuzz-replay soak FORCE
all: $(BUILD)/reqlog $(BUILD)/reqlog-testapi $(BUILD)/libreqlog.a $(if $(wildcard recorder/exec/shim/*.c),$(BUILD)/libreqlog-shim.so)

deps:
	@scripts/deps.sh

$(BUILD)/obj/recorder/%.o $(BUILD)/pic/recorder/%.o: INC = $(INC_recorder)
$(BUILD)/obj/web/%.o: INC = $(INC_web)
$(BUILD)/obj/cli/%.o: INC = $(INC_cli)
$(BUILD)/obj/demo/%.o: INC = $(INC_demo)
$(BUILD)/obj/gen/%.o: INC = $(INC_gen)
$(BUILD)/obj/tests/%.o $(BUILD)/obj/bench/%.o $(BUILD)/obj/fuzz/%.o: INC = $(INC_inside)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(INC) -c $< -o $@

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(INC) -fPIC -fvisibility=hidden -c $< -o $@

# The sanitizer runtime cannot be preloaded into other programs: the shim is always
# built without sanitizers, even in the sanitizer build.
$(BUILD)/libreqlog-shim.so: ALL_CFLAGS := $(filter-out $(SANFLAGS),$(ALL_CFLAGS))
$(BUILD)/libreqlog-shim.so: $(SHIM_OBJ)
	$(CC) -shared -fPIC $(filter-out $(SANFLAGS),$(ALL_CFLAGS)) $^ $(PKG_LIBS) -ldl -lpthread -o $@

$(BUILD)/tools/bin2c: tools/bin2c.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) -O1 $< -o $@

# The names of the embedded files, rewritten only when the set changes: a file added or
# removed remakes the embedded copy even when it is older than the generated source.
$(BUILD)/gen/%.list: FORCE
	@mkdir -p $(dir $@)
	@echo '$(LIST_$*)' | cmp -s - $@ || echo '$(LIST_$*)' > $@
LIST_schema    = $(SCHEMA)
LIST_schema_pg = $(SCHEMA_PG)
LIST_assets    = $(ASSETS)

$(BUILD)/gen/schema_sql.c: $(SCHEMA) $(BUILD)/gen/schema.list $(BUILD)/tools/bin2c
	@mkdir -p $(dir $@)
	$(BUILD)/tools/bin2c reqlog_schema $(SCHEMA) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/schema_sql.o: $(BUILD)/gen/schema_sql.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(INC) -c $< -o $@

$(BUILD)/gen/schema_pg_sql.c: $(SCHEMA_PG) $(BUILD)/gen/schema_pg.list $(BUILD)/tools/bin2c
	@mkdir -p $(dir $@)
	$(BUILD)/tools/bin2c reqlog_pg_schema $(SCHEMA_PG) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/schema_pg_sql.o: $(BUILD)/gen/schema_pg_sql.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(INC) -c $< -o $@

$(BUILD)/gen/assets_gen.c: $(ASSETS) $(BUILD)/gen/assets.list $(BUILD)/tools/bin2c
	@mkdir -p $(dir $@)
	$(BUILD)/tools/bin2c reqlog_assets $(ASSETS) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/assets_gen.o: $(BUILD)/gen/assets_gen.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(INC) -c $< -o $@

$(BUILD)/libreqlogweb.a: $(WEB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libreqlog.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libfakeapi.a: $(FAKE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/reqlog: $(CLI_OBJ) $(BUILD)/libreqlogweb.a $(BUILD)/libreqlog.a $(BUILD)/libfakeapi.a
	$(CC) $(ALL_CFLAGS) $(CLI_OBJ) $(BUILD)/libreqlogweb.a $(BUILD)/libfakeapi.a $(BUILD)/libreqlog.a $(LDLIBS_ALL) -o $@

$(BUILD)/reqlog-testapi: $(BUILD)/obj/demo/main.o $(BUILD)/libfakeapi.a
	$(CC) $(ALL_CFLAGS) $^ $(LDLIBS_ALL) -o $@

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(TESTLIB_OBJ) $(BUILD)/libreqlogweb.a $(BUILD)/libfakeapi.a $(BUILD)/libreqlog.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ $(LDLIBS_ALL) -lcmocka -o $@

$(BUILD)/tests/integration/%: $(BUILD)/obj/tests/integration/%.o $(TESTLIB_OBJ) $(BUILD)/libreqlogweb.a $(BUILD)/libfakeapi.a $(BUILD)/libreqlog.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ $(LDLIBS_ALL) -lcmocka -o $@

# Programs test_exec_programs runs under `reqlog exec` (tests/progs/): dlplug loads a
# libcurl plugin with RTLD_DEEPBIND or dlmopen. Never sanitized: the shim is preloaded
# into them.
$(BUILD)/tests/progs/dlplug: tests/progs/dlplug.c tests/progs/testplug.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -shared -fPIC -Wl,-z,lazy tests/progs/testplug.c $(shell pkg-config --cflags --libs libcurl) -o $(dir $@)libreqlog-testplug.so
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Wl,-rpath,'$$ORIGIN' $< -ldl -o $@
$(BUILD)/tests/integration/test_exec_programs: | $(BUILD)/tests/progs/dlplug

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BENCH_LIB_OBJ) $(BUILD)/libreqlogweb.a $(BUILD)/libfakeapi.a $(BUILD)/libreqlog.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ $(LDLIBS_ALL) -o $@

# made at every install: PREFIX is written into it
$(BUILD)/reqlog.pc: reqlog.pc.in FORCE
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(shell sed -n 's/^#define REQLOG_VERSION "\(.*\)"/\1/p' include/reqlog.h)|' $< > $@

# The fuzz targets in their replay form: fuzz/replay.c's main() feeds each file of
# fuzz/corpus/NAME to the target once (tests/run.sh runs them with the other tests).
$(BUILD)/obj/fuzz/replay_%.o: fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(INC_inside) -DFUZZ_NAME=$* -c $< -o $@

$(BUILD)/tests/fuzz/replay_%: $(BUILD)/obj/fuzz/fuzz_%.o $(BUILD)/obj/fuzz/replay_%.o $(BUILD)/obj/fuzz/common.o $(BUILD)/libreqlog.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $^ $(LDLIBS_ALL) -o $@

# `make fuzz-replay`: only the corpus replay, in this build flavour.
fuzz-replay: $(FUZZ_REPLAY)
	@rc=0; for t in $(FUZZ_REPLAY); do $$t || rc=1; done; exit $$rc

# `make fuzz`: the libFuzzer form of every target, with clang, ASan and UBSan, into
# build/fuzz/fuzz_NAME (the library too is compiled there with coverage); run them with
# fuzz/run.sh. clang and its libFuzzer runtime come from `scripts/deps.sh fuzz`.
fuzz:
	@scripts/deps.sh fuzz
	@$(MAKE) BUILD=build/fuzz CC=clang SANITIZE=1 CFLAGS="$(FUZZ_CFLAGS)" fuzz-targets

fuzz-targets: $(FUZZ_NAMES:%=$(BUILD)/fuzz_%)

$(BUILD)/fuzz_%: $(BUILD)/obj/fuzz/fuzz_%.o $(BUILD)/obj/fuzz/common.o $(BUILD)/libreqlog.a
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $^ $(LDLIBS_ALL) -o $@

# `make soak` (not part of `make test`): kill -9 cycles of a recording proxy, concurrent
# writers into one file, a full disk; prints its figures (tests/soak/soak.py).
soak: all
	@python3 tests/soak/soak.py $(BUILD)

# Test binaries for one build flavour, run by tests/run.sh (prints the summary line),
# then the browser tests against this build's reqlog serve and the HAR checks.
check: all $(UNIT_BIN) $(INTEG_BIN) $(FUZZ_REPLAY)
	@tests/run.sh $(BUILD); c=$$?; tests/layout/run.sh $(BUILD); l=$$?; tests/e2e/run.sh $(BUILD); e=$$?; \
	 tests/har/run.sh $(BUILD); h=$$?; [ $$c -eq 0 ] && [ $$l -eq 0 ] && [ $$e -eq 0 ] && [ $$h -eq 0 ]

# The README's test command: deps, then the plain and the sanitizer builds.
test: deps
	@rm -f build/test-logs/summary build/san/test-logs/summary build/test-logs/layout-summary build/san/test-logs/layout-summary build/test-logs/e2e-summary build/san/test-logs/e2e-summary build/test-logs/har-summary build/san/test-logs/har-summary
	@$(MAKE) BUILD=build check; plain=$$?; \
	 $(MAKE) BUILD=build/san SANITIZE=1 CFLAGS="-O1 -g" check; san=$$?; \
	 tests/summary.sh build build/san && [ $$plain -eq 0 ] && [ $$san -eq 0 ]

run: deps all
	$(BUILD)/reqlog --db $(or $(REQLOG_DB),$(BUILD)/demo.db) demo
	$(BUILD)/reqlog --db $(or $(REQLOG_DB),$(BUILD)/demo.db) stats
	$(BUILD)/reqlog --db $(or $(REQLOG_DB),$(BUILD)/demo.db) serve --listen 127.0.0.1:8080

bench: bench-deps all $(BENCH_BIN)
	@bench/run.sh $(BUILD)

# what `make test` needs, and wrk, the benchmarks' load generator
bench-deps:
	@scripts/deps.sh bench

install: all $(BUILD)/reqlog.pc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/reqlog $(DESTDIR)$(PREFIX)/bin/reqlog
	install -m 644 $(BUILD)/libreqlog.a $(DESTDIR)$(PREFIX)/lib/libreqlog.a
	install -m 644 include/reqlog.h $(DESTDIR)$(PREFIX)/include/reqlog.h
	install -m 644 $(BUILD)/reqlog.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/reqlog.pc
	install -m 644 reqlog.1 $(DESTDIR)$(PREFIX)/share/man/man1/reqlog.1
	if [ -f $(BUILD)/libreqlog-shim.so ]; then install -d $(DESTDIR)$(PREFIX)/lib/reqlog && install -m 755 $(BUILD)/libreqlog-shim.so $(DESTDIR)$(PREFIX)/lib/reqlog/libreqlog-shim.so; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/reqlog $(DESTDIR)$(PREFIX)/lib/libreqlog.a $(DESTDIR)$(PREFIX)/include/reqlog.h $(DESTDIR)$(PREFIX)/lib/pkgconfig/reqlog.pc $(DESTDIR)$(PREFIX)/share/man/man1/reqlog.1

clean:
	rm -rf build

# `make print-VAR` prints a variable (tests/layout/run.sh reads the include paths so)
print-%:
	@echo $($*)

FORCE:

# header dependencies of every object, the shim's PIC ones included
-include $(shell find $(BUILD)/obj $(BUILD)/pic -name '*.d' 2>/dev/null)
.SECONDARY:
