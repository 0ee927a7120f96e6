// cxxeh_support.cpp - minimal C++ EH runtime for wasm32-wasi + Wasm EH.
//
// Debian's wasm32 libc++abi is built with -fno-exceptions (cxa_noexception.cpp):
// it has std::exception/runtime_error/type_info and the __class_type_info
// family *including* __shim_type_info::can_catch, but no __cxa_throw,
// __cxa_begin_catch, personality, or libunwind.  This file supplies the
// missing pieces, modelled on libc++abi (cxa_exception.cpp,
// cxa_personality.cpp wasm path) and libunwind (Unwind-wasm.c).
//
// Single-threaded only (no TLS).  C++17 or later (no dynamic exception
// specifications; a negative LSDA filter index calls std::terminate).
// Compile with the same -fwasm-exceptions flags as the program.

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <exception>
#include <typeinfo>

// Layout of libc++abi's private base of all its type_info classes.
// Only declared: we call can_catch() through the vtable libc++abi provides.
namespace __cxxabiv1 {
class __shim_type_info : public std::type_info {
public:
  ~__shim_type_info() override;
  virtual void noop1() const;
  virtual void noop2() const;
  virtual bool can_catch(const __shim_type_info *thrown_type,
                         void *&adjustedPtr) const = 0;
};
} // namespace __cxxabiv1
using __cxxabiv1::__shim_type_info;

namespace {

const uint64_t kOurExceptionClass = 0x434C4E47432B2B00ULL; // "CLNGC++\0"

struct UnwindException {            // the value passed to `throw 0`
  uint64_t exception_class;
};

struct alignas(16) ExceptionHeader { // sits right before the thrown object
  const std::type_info *type;
  void *(*destructor)(void *);      // wasm C++ ABI: dtors return `this`
  ExceptionHeader *next_caught;
  int handler_count;                // < 0 while being rethrown
  void *adjusted_ptr;               // set by the personality for the catch
  UnwindException unwind;
};

ExceptionHeader *caught_stack;      // innermost caught exception first

ExceptionHeader *from_object(void *obj) {
  return static_cast<ExceptionHeader *>(obj) - 1;
}
ExceptionHeader *from_unwind(void *uw) {
  return reinterpret_cast<ExceptionHeader *>(
      static_cast<char *>(uw) - offsetof(ExceptionHeader, unwind));
}

[[noreturn]] void raise(ExceptionHeader *h) {
  __builtin_wasm_throw(0, &h->unwind);   // tag 0 = __cpp_exception
}

// LEB128; `is_signed` sign-extends from the last byte's bit 6.
uintptr_t read_leb(const uint8_t *&p, bool is_signed) {
  uintptr_t r = 0;
  unsigned shift = 0;
  uint8_t b;
  do {
    b = *p++;
    r |= uintptr_t(b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  if (is_signed && (b & 0x40) && shift < sizeof(r) * 8)
    r |= ~uintptr_t(0) << shift;
  return r;
}

uintptr_t read_uleb(const uint8_t *&p) { return read_leb(p, false); }
intptr_t read_sleb(const uint8_t *&p) { return intptr_t(read_leb(p, true)); }

enum : uint8_t { DW_EH_PE_absptr = 0x00, DW_EH_PE_uleb128 = 0x01,
                 DW_EH_PE_udata4 = 0x03, DW_EH_PE_sdata4 = 0x0b,
                 DW_EH_PE_omit = 0xff };

// Only the encodings LLVM emits for wasm32 are supported.
uintptr_t read_encoded(const uint8_t *&p, uint8_t enc) {
  uintptr_t v;
  switch (enc & 0x0f) {
  case DW_EH_PE_absptr: case DW_EH_PE_udata4: case DW_EH_PE_sdata4:
    memcpy(&v, p, 4); p += 4; break;
  case DW_EH_PE_uleb128:
    v = read_uleb(p); break;
  default:
    std::terminate();
  }
  if (enc & 0x70)            // pcrel/datarel/...: never used on wasm
    std::terminate();
  return v;
}

enum { URC_HANDLER_FOUND = 6, URC_CONTINUE_UNWIND = 8 };

} // namespace

extern "C" {

// Written by compiler-generated landing pads (WasmEHPrepare), read here.
struct { uintptr_t lpad_index, lsda, selector; } __wasm_lpad_context;

void *__cxa_allocate_exception(size_t size) noexcept {
  size_t total = sizeof(ExceptionHeader) + ((size + 15) & ~size_t(15));
  void *mem = aligned_alloc(alignof(ExceptionHeader), total);
  if (!mem) std::terminate();
  memset(mem, 0, sizeof(ExceptionHeader));
  return static_cast<ExceptionHeader *>(mem) + 1;
}

void __cxa_free_exception(void *obj) noexcept { free(from_object(obj)); }

[[noreturn]] void __cxa_throw(void *obj, std::type_info *type,
                              void *(*dtor)(void *)) {
  ExceptionHeader *h = from_object(obj);
  h->type = type;
  h->destructor = dtor;
  h->adjusted_ptr = obj;
  h->unwind.exception_class = kOurExceptionClass;
  raise(h);
}

// Called from catch landing pads with the caught exnref payload.  Decides
// whether this frame's catch clauses (for landing pad lpad_index) match and
// reports the matching clause's type-table index in `selector`.
int _Unwind_CallPersonality(void *uw) {
  __wasm_lpad_context.selector = 0;
  UnwindException *ue = static_cast<UnwindException *>(uw);
  if (ue->exception_class != kOurExceptionClass) return URC_CONTINUE_UNWIND;
  ExceptionHeader *h = from_unwind(uw);

  const uint8_t *p = reinterpret_cast<const uint8_t *>(__wasm_lpad_context.lsda);
  if (!p) return URC_CONTINUE_UNWIND;
  uint8_t lpstart_enc = *p++;
  if (lpstart_enc != DW_EH_PE_omit) read_encoded(p, lpstart_enc);
  uint8_t ttype_enc = *p++;
  const uint8_t *class_info = nullptr;          // end of the type table
  if (ttype_enc != DW_EH_PE_omit) {
    uintptr_t off = read_uleb(p);
    class_info = p + off;
  }
  ++p;                                          // call-site encoding (uleb)
  uintptr_t cs_len = read_uleb(p);
  const uint8_t *cs = p, *cs_end = p + cs_len, *action_table = cs_end;

  // On wasm the call-site table is indexed by landing pad index.
  uintptr_t action = 0;
  bool found = false;
  for (uintptr_t i = 0; cs < cs_end; ++i) {
    read_uleb(cs);                              // landing pad (unused)
    uintptr_t a = read_uleb(cs);
    if (i == __wasm_lpad_context.lpad_index) { action = a; found = true; break; }
  }
  if (!found) std::terminate();                 // corrupt table
  if (action == 0) return URC_CONTINUE_UNWIND;  // cleanup only

  const uint8_t *ap = action_table + (action - 1);
  for (;;) {
    intptr_t ttype_index = read_sleb(ap);
    if (ttype_index > 0) {
      if (!class_info) std::terminate();
      const uint8_t *tp = class_info - uintptr_t(ttype_index) * 4;
      const __shim_type_info *catch_type =
          reinterpret_cast<const __shim_type_info *>(read_encoded(tp, ttype_enc));
      void *adjusted = h + 1;                   // the thrown object
      if (!catch_type ||                        // catch (...)
          catch_type->can_catch(
              static_cast<const __shim_type_info *>(h->type), adjusted)) {
        h->adjusted_ptr = adjusted;
        __wasm_lpad_context.selector = uintptr_t(ttype_index);
        return URC_HANDLER_FOUND;
      }
    } else if (ttype_index < 0) {
      std::terminate();                         // dynamic exception spec
    }                                           // 0: cleanup, keep looking
    const uint8_t *next = ap;
    intptr_t off = read_sleb(next);
    if (off == 0) return URC_CONTINUE_UNWIND;
    ap += off;
  }
}

void *__cxa_get_exception_ptr(void *uw) noexcept {
  return from_unwind(uw)->adjusted_ptr;
}

void *__cxa_begin_catch(void *uw) noexcept {
  ExceptionHeader *h = from_unwind(uw);
  int c = h->handler_count;
  h->handler_count = (c < 0 ? -c : c) + 1;
  if (h != caught_stack) {
    h->next_caught = caught_stack;
    caught_stack = h;
  }
  return h->adjusted_ptr;
}

void __cxa_end_catch() {
  ExceptionHeader *h = caught_stack;
  if (!h) return;
  if (h->handler_count < 0) {                   // rethrown: keep it alive
    if (++h->handler_count == 0) caught_stack = h->next_caught;
  } else if (--h->handler_count == 0) {
    caught_stack = h->next_caught;
    if (h->destructor) h->destructor(h + 1);
    free(h);
  }
}

[[noreturn]] void __cxa_rethrow() {
  ExceptionHeader *h = caught_stack;
  if (!h) std::terminate();                     // `throw;` outside a handler
  h->handler_count = -h->handler_count;
  raise(h);
}

} // extern "C"
