// C++ exception test (built with -fwasm-exceptions, legacy and exnref encodings; see
// CProgramTests.testCxxExceptions and cxxeh_support.cpp): throws across functions, cleanups, catch by type,
// catch by base, catch(...), rethrow, and an "uncaught" mode.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

struct MyError {                 // custom type, not derived from std::exception
  int code;
  const char *msg;
};

struct DerivedError : std::runtime_error {   // custom type with a base chain
  int extra;
  DerivedError(const char *m, int e) : std::runtime_error(m), extra(e) {}
};

static int g_live = 0;           // counts live Guard objects

struct Guard {
  const char *name;
  explicit Guard(const char *n) : name(n) { ++g_live; std::printf("  Guard(%s) ctor\n", name); }
  ~Guard() { --g_live; std::printf("  Guard(%s) dtor\n", name); }
};

struct Quiet {                   // a cleanup that prints nothing
  Quiet() { ++g_live; }
  ~Quiet() { --g_live; }
};

__attribute__((noinline)) void thrower(int kind) {
  std::printf("  thrower(%d)\n", kind);
  switch (kind) {
  case 0: throw std::runtime_error("runtime failure");
  case 1: throw MyError{42, "custom failure"};
  case 2: throw DerivedError("derived failure", 7);
  case 3: throw 123;                       // int, only caught by catch(...)
  default: break;
  }
  std::printf("  thrower: no throw\n");
}

__attribute__((noinline)) int middle(int kind) {
  Guard g("middle");             // destructor must run during unwinding
  thrower(kind);
  return kind * 10;
}

__attribute__((noinline)) int layer(int kind) {
  Guard g("layer");
  int r = middle(kind);
  std::printf("  layer: middle returned %d\n", r);
  return r + 1;
}

// Catches everything, logs, and rethrows with `throw;`.
__attribute__((noinline)) int rethrower(int kind) {
  try {
    return layer(kind);
  } catch (...) {
    std::printf("  rethrower: caught (...), rethrowing\n");
    throw;
  }
}

// Outer function: catch by type.
__attribute__((noinline)) void run(int kind, bool via_rethrow) {
  std::printf("run(kind=%d, rethrow=%d)\n", kind, (int)via_rethrow);
  try {
    int r = via_rethrow ? rethrower(kind) : layer(kind);
    std::printf("  result %d\n", r);
  } catch (const MyError &e) {
    std::printf("  caught MyError code=%d msg=%s\n", e.code, e.msg);
  } catch (const DerivedError &e) {
    std::printf("  caught DerivedError what=%s extra=%d\n", e.what(), e.extra);
  } catch (const std::exception &e) {   // std::runtime_error caught by base
    std::printf("  caught std::exception what=%s\n", e.what());
  }
  // kind 3 (int) escapes run(); caught by main's catch(...)
}

__attribute__((noinline)) void nested() {
  try {
    try {
      throw std::runtime_error("inner");
    } catch (const std::runtime_error &e) {
      std::printf("nested: inner caught %s, throwing MyError\n", e.what());
      throw MyError{5, "from handler"};
    }
  } catch (MyError e) {                 // catch by value
    std::printf("nested: outer caught MyError code=%d msg=%s\n", e.code, e.msg);
  }
}

// Throws through a frame with a cleanup and catches, `n` times (an exception per iteration must
// not stay allocated: the process's memory stays flat).
__attribute__((noinline)) long repeat(long n) {
  long sum = 0;
  for (long i = 0; i < n; ++i) {
    try {
      Quiet q;
      if (i >= 0) throw MyError{(int)(i % 7), "loop"};
    } catch (const MyError &e) {
      sum += e.code;
    }
  }
  return sum;
}

int main(int argc, char **argv) {
  if (argc > 2 && std::strcmp(argv[1], "loop") == 0) {
    long n = std::atol(argv[2]);
    std::printf("loop %ld: sum %ld, live %d\n", n, repeat(n), g_live);
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "uncaught") == 0) {
    std::setvbuf(stdout, nullptr, _IONBF, 0);   // unbuffered: show what runs
    std::printf("uncaught mode: throwing without a handler\n");
    layer(0);                           // no try anywhere
    std::printf("not reached\n");
    return 0;
  }
  for (int kind = 0; kind <= 4; ++kind) {
    for (int rt = 0; rt <= 1; ++rt) {
      try {
        run(kind, rt != 0);
      } catch (...) {
        std::printf("main: caught (...) escaping run\n");
      }
    }
  }
  nested();
  std::printf("live guards at end: %d\n", g_live);
  std::printf("done\n");
  return 0;
}
