#include "mlopt/core/pickle_reader.h"

#include <cstring>
#include <unordered_map>

#include "mlopt/core/error.h"

namespace mlopt {

PickleRef PickleValue::make(Kind kind) {
  auto v = std::make_shared<PickleValue>();
  v->kind = kind;
  return v;
}
PickleRef PickleValue::make_int(int64_t i) {
  auto v = make(Kind::Int);
  v->integer = i;
  return v;
}
PickleRef PickleValue::make_string(std::string s, Kind kind) {
  auto v = make(kind);
  v->text = std::move(s);
  return v;
}
PickleRef PickleValue::make_opaque(int64_t handle) {
  auto v = make(Kind::Opaque);
  v->integer = handle;
  return v;
}

PickleValue::~PickleValue() {
  std::vector<PickleRef> pending;
  auto adopt_children = [&pending](PickleValue& v) {
    for (auto& item : v.items) pending.push_back(std::move(item));
    for (auto& [key, value] : v.entries) {
      pending.push_back(std::move(key));
      pending.push_back(std::move(value));
    }
    v.items.clear();
    v.entries.clear();
  };
  adopt_children(*this);
  while (!pending.empty()) {
    PickleRef next = std::move(pending.back());
    pending.pop_back();
    // Last owner: take its children so that its destructor finds none.
    if (next && next.use_count() == 1) adopt_children(*next);
  }
}

std::string describe(const PickleValue& v) {
  switch (v.kind) {
    case PickleValue::Kind::None: return "None";
    case PickleValue::Kind::Bool: return "a bool";
    case PickleValue::Kind::Int: return "an int";
    case PickleValue::Kind::Float: return "a float";
    case PickleValue::Kind::String: return "a string";
    case PickleValue::Kind::Bytes: return "bytes";
    case PickleValue::Kind::Tuple: return "a tuple";
    case PickleValue::Kind::List: return "a list";
    case PickleValue::Kind::Dict: return "a dict";
    case PickleValue::Kind::Global: return "'" + v.text + "'";
    case PickleValue::Kind::Opaque: return "an object";
  }
  return "a value";
}

namespace {

using Kind = PickleValue::Kind;

// Caps that keep hostile input from asking for unbounded memory.
constexpr size_t kMaxStackDepth = size_t{1} << 20;
constexpr uint64_t kMaxMemoIndex = uint64_t{1} << 24;

class Machine {
 public:
  Machine(const std::string& bytes, PickleHooks& hooks, const std::string& what)
      : b_(bytes), hooks_(hooks), what_(what) {}

  PickleRef run() {
    while (true) {
      op_pos_ = pos_;
      unsigned char op = u8();
      if (op == '.') break;  // STOP
      step(op);
    }
    if (!marks_.empty() || stack_.size() != 1)
      fail("{}: malformed pickle (STOP with {} values on the stack)", what_, stack_.size());
    return stack_.back();
  }

 private:
  template <typename... Args>
  [[noreturn]] void bad(fmt::format_string<Args...> format, Args&&... args) {
    fail("{}: malformed pickle at byte {}: {}", what_, op_pos_, fmt::format(format, std::forward<Args>(args)...));
  }

  // ---- reading the program ----
  void need(uint64_t n) {
    if (n > b_.size() - pos_) fail("{}: truncated pickle (opcode at byte {} needs {} more bytes)", what_, op_pos_, n);
  }
  uint64_t le(int n) {
    need(n);
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b_[pos_ + i]);
    pos_ += n;
    return v;
  }
  unsigned char u8() { return static_cast<unsigned char>(le(1)); }
  std::string take(uint64_t n) {
    need(n);
    std::string s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string line() {
    size_t end = b_.find('\n', pos_);
    if (end == std::string::npos) fail("{}: truncated pickle (unterminated line at byte {})", what_, op_pos_);
    std::string s = b_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }

  // ---- the stack ----
  void push(PickleRef v) {
    if (stack_.size() >= kMaxStackDepth) bad("stack too deep");
    stack_.push_back(std::move(v));
  }
  PickleRef pop() {
    if (stack_.size() <= floor()) bad("stack underflow");
    PickleRef v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  PickleRef& top() {
    if (stack_.size() <= floor()) bad("stack underflow");
    return stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // Pops everything above the last MARK (and the mark).
  std::vector<PickleRef> pop_mark() {
    if (marks_.empty()) bad("no MARK on the stack");
    size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<PickleRef> items(std::make_move_iterator(stack_.begin() + mark), std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }

  // ---- the memo ----
  void memo_put(uint64_t index) {
    if (index >= kMaxMemoIndex) bad("memo index {} out of range", index);
    memo_[index] = top();
  }
  void memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) bad("memo index {} was never stored", index);
    push(it->second);
  }
  uint64_t decimal(const std::string& text) {
    if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
      bad("expected a decimal index, got '{}'", text.substr(0, 40));
    return std::stoull(text);
  }

  PickleRef tuple_of(std::vector<PickleRef> items) {
    auto t = PickleValue::make(Kind::Tuple);
    t->items = std::move(items);
    return t;
  }
  PickleValue& container(Kind kind, const char* opname) {
    PickleRef& c = top();
    if (c->kind != kind) bad("{} on {}", opname, describe(*c));
    return *c;
  }
  void set_items(PickleValue& dict, std::vector<PickleRef>& kv) {
    if (kv.size() % 2) bad("SETITEMS with an odd number of values");
    for (size_t i = 0; i < kv.size(); i += 2) dict.entries.emplace_back(std::move(kv[i]), std::move(kv[i + 1]));
  }
  void global(const std::string& module, const std::string& name) {
    PickleRef g = hooks_.find_class(module, name);
    if (!g || g->kind != Kind::Global) bad("find_class returned no global");
    push(std::move(g));
  }
  void call(const PickleRef& callable, const PickleRef& args) {
    if (callable->kind != Kind::Global) bad("REDUCE on {}, not a global", describe(*callable));
    if (args->kind != Kind::Tuple) bad("REDUCE arguments are {}, not a tuple", describe(*args));
    push(hooks_.call(*callable, *args));
  }

  void step(unsigned char op) {
    switch (op) {
      case 0x80: {  // PROTO
        unsigned proto = u8();
        if (proto > 5) bad("unsupported pickle protocol {}", proto);
        return;
      }
      case 0x95: le(8); return;  // FRAME: a length hint, nothing to do
      case '(': marks_.push_back(stack_.size()); return;
      case '0': pop(); return;
      case '1': pop_mark(); return;
      case '2': push(top()); return;
      case 'N': push(PickleValue::make(Kind::None)); return;
      case 0x88:
      case 0x89: {
        auto v = PickleValue::make(Kind::Bool);
        v->boolean = op == 0x88;
        push(v);
        return;
      }
      case 'J': push(PickleValue::make_int(static_cast<int32_t>(le(4)))); return;  // BININT
      case 'K': push(PickleValue::make_int(u8())); return;                        // BININT1
      case 'M': push(PickleValue::make_int(le(2))); return;                       // BININT2
      case 0x8a: {  // LONG1: little-endian two's complement of n bytes
        unsigned n = u8();
        if (n > 8) bad("integer of {} bytes is too large", n);
        uint64_t v = n ? le(static_cast<int>(n)) : 0;
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
        push(PickleValue::make_int(static_cast<int64_t>(v)));
        return;
      }
      case 'I': {  // INT (text); protocol 0 spells True/False as 01/00
        std::string t = line();
        bool neg = !t.empty() && t[0] == '-';
        int64_t v = static_cast<int64_t>(decimal(neg ? t.substr(1) : t));
        push(PickleValue::make_int(neg ? -v : v));
        return;
      }
      case 'G': {  // BINFLOAT: big-endian double
        need(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<unsigned char>(b_[pos_ + i]);
        pos_ += 8;
        auto v = PickleValue::make(Kind::Float);
        std::memcpy(&v->real, &bits, 8);
        push(v);
        return;
      }
      case 'X': push(PickleValue::make_string(take(le(4)))); return;     // BINUNICODE
      case 0x8c: push(PickleValue::make_string(take(u8()))); return;     // SHORT_BINUNICODE
      case 0x8d: push(PickleValue::make_string(take(le(8)))); return;    // BINUNICODE8
      case 'T': push(PickleValue::make_string(take(le(4)))); return;     // BINSTRING (py2 str)
      case 'U': push(PickleValue::make_string(take(u8()))); return;      // SHORT_BINSTRING
      case 'B': push(PickleValue::make_string(take(le(4)), Kind::Bytes)); return;  // BINBYTES
      case 'C': push(PickleValue::make_string(take(u8()), Kind::Bytes)); return;   // SHORT_BINBYTES
      case 0x8e: push(PickleValue::make_string(take(le(8)), Kind::Bytes)); return; // BINBYTES8
      case ')': push(PickleValue::make(Kind::Tuple)); return;
      case ']': push(PickleValue::make(Kind::List)); return;
      case '}': push(PickleValue::make(Kind::Dict)); return;
      case 't': push(tuple_of(pop_mark())); return;
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1-3
        std::vector<PickleRef> items(op - 0x84);
        for (size_t i = items.size(); i-- > 0;) items[i] = pop();
        push(tuple_of(std::move(items)));
        return;
      }
      case 'l': {
        auto l = PickleValue::make(Kind::List);
        l->items = pop_mark();
        push(l);
        return;
      }
      case 'd': {
        auto d = PickleValue::make(Kind::Dict);
        auto kv = pop_mark();
        set_items(*d, kv);
        push(d);
        return;
      }
      case 'q': memo_put(u8()); return;        // BINPUT
      case 'r': memo_put(le(4)); return;       // LONG_BINPUT
      case 'p': memo_put(decimal(line())); return;  // PUT
      case 0x94: memo_put(memo_.size()); return;    // MEMOIZE
      case 'h': memo_get(u8()); return;        // BINGET
      case 'j': memo_get(le(4)); return;       // LONG_BINGET
      case 'g': memo_get(decimal(line())); return;  // GET
      case 'a': {  // APPEND
        PickleRef v = pop();
        container(Kind::List, "APPEND").items.push_back(std::move(v));
        return;
      }
      case 'e': {  // APPENDS
        auto items = pop_mark();
        auto& list = container(Kind::List, "APPENDS");
        for (auto& v : items) list.items.push_back(std::move(v));
        return;
      }
      case 's': {  // SETITEM
        PickleRef value = pop(), key = pop();
        container(Kind::Dict, "SETITEM").entries.emplace_back(std::move(key), std::move(value));
        return;
      }
      case 'u': {  // SETITEMS
        auto kv = pop_mark();
        set_items(container(Kind::Dict, "SETITEMS"), kv);
        return;
      }
      case 'c': {  // GLOBAL "module\nname\n"
        std::string module = line();
        std::string name = line();
        global(module, name);
        return;
      }
      case 0x93: {  // STACK_GLOBAL
        PickleRef name = pop(), module = pop();
        if (module->kind != Kind::String || name->kind != Kind::String) bad("STACK_GLOBAL needs two strings");
        global(module->text, name->text);
        return;
      }
      case 'R': {  // REDUCE
        PickleRef args = pop(), callable = pop();
        call(callable, args);
        return;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
        PickleRef args = pop(), cls = pop();
        call(cls, args);
        return;
      }
      case 'b': {  // BUILD
        PickleRef state = pop();
        hooks_.build(*top(), *state);
        return;
      }
      case 'Q': {  // BINPERSID
        PickleRef pid = pop();
        push(hooks_.persistent_load(*pid));
        return;
      }
      case 'P': push(hooks_.persistent_load(*PickleValue::make_string(line()))); return;  // PERSID
      default:
        bad("unsupported opcode 0x{:02x}", op);
    }
  }

  const std::string& b_;
  PickleHooks& hooks_;
  const std::string& what_;
  size_t pos_ = 0, op_pos_ = 0;
  std::vector<PickleRef> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PickleRef> memo_;
};

}  // namespace

PickleRef read_pickle(const std::string& bytes, PickleHooks& hooks, const std::string& what) {
  return Machine(bytes, hooks, what).run();
}

}  // namespace mlopt
