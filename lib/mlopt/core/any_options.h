#pragma once
// Any subcommand's options struct behind one value type, so that one table
// (lib/mlopt/commands/) holds every command and the CLI and the pipeline bind
// its fields without knowing its type. AnyOptions has the same duck-typed
// `visit(V&)` as the structs themselves (see mlopt/core/options.h), so every
// visitor (CLI flags, YAML keys, JSON, path roles) takes it unchanged: the
// struct's visit calls go through one virtual call per field.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <variant>
#include <vector>

namespace mlopt {

// How the options struct declared a field (the `v.xxx(...)` call it used).
enum class FieldRole {
  positional,
  optional_positional,
  option,
  required_option,
  flag,
  choice,
  output,
  optional_output,
  written_file
};

// The field types options.h allows (and uint64_t, for seeds).
using FieldRef = std::variant<std::string*, bool*, int*, int64_t*, uint64_t*, double*, std::vector<std::string>*,
                              std::vector<int64_t>*, std::vector<double>*>;

struct Field {
  FieldRole role;
  const std::string& name;
  FieldRef ref;
  const std::vector<std::string>* choices;  // FieldRole::choice only
  const std::string& help;
};

class FieldVisitor {
 public:
  virtual ~FieldVisitor() = default;
  virtual void field(const Field& f) = 0;
};

namespace detail {

// The struct's side: each `v.xxx(name, field, help)` becomes one Field.
class FieldEmitter {
 public:
  explicit FieldEmitter(FieldVisitor& out) : out_(out) {}
  template <typename T>
  void positional(const std::string& n, T& f, const std::string& h) { emit(FieldRole::positional, n, f, h); }
  template <typename T>
  void optional_positional(const std::string& n, T& f, const std::string& h) {
    emit(FieldRole::optional_positional, n, f, h);
  }
  template <typename T>
  void option(const std::string& n, T& f, const std::string& h) { emit(FieldRole::option, n, f, h); }
  template <typename T>
  void required_option(const std::string& n, T& f, const std::string& h) { emit(FieldRole::required_option, n, f, h); }
  void flag(const std::string& n, bool& f, const std::string& h) { emit(FieldRole::flag, n, f, h); }
  void choice(const std::string& n, std::string& f, const std::vector<std::string>& choices, const std::string& h) {
    out_.field(Field{FieldRole::choice, n, &f, &choices, h});
  }
  void output(const std::string& n, std::string& f, const std::string& h) { emit(FieldRole::output, n, f, h); }
  void optional_output(const std::string& n, std::string& f, const std::string& h) {
    emit(FieldRole::optional_output, n, f, h);
  }
  void written_file(const std::string& n, std::string& f, const std::string& h) {
    emit(FieldRole::written_file, n, f, h);
  }

 private:
  template <typename T>
  void emit(FieldRole role, const std::string& n, T& f, const std::string& h) {
    out_.field(Field{role, n, FieldRef(&f), nullptr, h});
  }
  FieldVisitor& out_;
};

// The visitor's side: each Field becomes the `v.xxx(...)` call it came from.
template <class V>
class FieldForwarder final : public FieldVisitor {
 public:
  explicit FieldForwarder(V& v) : v_(v) {}
  void field(const Field& f) override {
    std::visit([&](auto* p) { forward(f, *p); }, f.ref);
  }

 private:
  template <typename T>
  void forward(const Field& f, T& value) {
    switch (f.role) {
      case FieldRole::positional: return v_.positional(f.name, value, f.help);
      case FieldRole::optional_positional: return v_.optional_positional(f.name, value, f.help);
      case FieldRole::option: return v_.option(f.name, value, f.help);
      case FieldRole::required_option: return v_.required_option(f.name, value, f.help);
      default: break;
    }
    // The roles below take one field type only (FieldEmitter's signatures).
    if constexpr (std::is_same_v<T, bool>) {
      if (f.role == FieldRole::flag) return v_.flag(f.name, value, f.help);
    } else if constexpr (std::is_same_v<T, std::string>) {
      switch (f.role) {
        case FieldRole::choice: return v_.choice(f.name, value, *f.choices, f.help);
        case FieldRole::output: return v_.output(f.name, value, f.help);
        case FieldRole::optional_output: return v_.optional_output(f.name, value, f.help);
        case FieldRole::written_file: return v_.written_file(f.name, value, f.help);
        default: break;
      }
    }
  }
  V& v_;
};

// `check_options(const Options&)`, found by argument-dependent lookup where
// the subcommand declares one: values the run would refuse.
template <typename Options, typename = void>
struct has_check_options : std::false_type {};
template <typename Options>
struct has_check_options<Options, std::void_t<decltype(check_options(std::declval<const Options&>()))>>
    : std::true_type {};

}  // namespace detail

class AnyOptions {
 public:
  AnyOptions() = default;
  template <class Options, typename = std::enable_if_t<!std::is_same_v<std::decay_t<Options>, AnyOptions>>>
  explicit AnyOptions(Options options) : impl_(std::make_unique<Model<Options>>(std::move(options))) {}
  AnyOptions(const AnyOptions& other) : impl_(other.impl_ ? other.impl_->clone() : nullptr) {}
  AnyOptions(AnyOptions&&) noexcept = default;
  AnyOptions& operator=(const AnyOptions& other) {
    if (this != &other) impl_ = other.impl_ ? other.impl_->clone() : nullptr;
    return *this;
  }
  AnyOptions& operator=(AnyOptions&&) noexcept = default;

  template <class V>
  void visit(V& v) {
    detail::FieldForwarder<V> forwarder(v);
    impl_->visit_fields(forwarder);
  }
  // Throws what the struct's check_options throws; nothing when it has none.
  void check() const { impl_->check(); }

  template <class Options>
  const Options& get() const {
    if (!impl_ || impl_->type() != typeid(Options)) throw std::logic_error("AnyOptions holds another options type");
    return static_cast<const Model<Options>&>(*impl_).options;
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual void visit_fields(FieldVisitor& out) = 0;
    virtual void check() const = 0;
    virtual const std::type_info& type() const = 0;
    virtual std::unique_ptr<Concept> clone() const = 0;
  };
  template <class Options>
  struct Model final : Concept {
    explicit Model(Options o) : options(std::move(o)) {}
    void visit_fields(FieldVisitor& out) override {
      detail::FieldEmitter emitter(out);
      options.visit(emitter);
    }
    void check() const override {
      if constexpr (detail::has_check_options<Options>::value) check_options(options);
    }
    const std::type_info& type() const override { return typeid(Options); }
    std::unique_ptr<Concept> clone() const override { return std::make_unique<Model>(options); }
    Options options;
  };
  std::unique_ptr<Concept> impl_;
};

}  // namespace mlopt
