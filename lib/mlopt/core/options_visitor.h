#pragma once
// A base for visitors of options structs (see mlopt/core/options.h) that treat
// fields by their role rather than one method per call. The struct calls
// `v.option(name, field, help)`, `v.flag(...)`, `v.output(...)` ...; deriving
//
//   class JsonWriter : public OptionsVisitor<JsonWriter> {
//    public:
//     template <typename T>
//     void on_field(FieldRole role, const std::string& name, T& value, const std::string& help);
//   };
//
// turns each of those calls into one on_field(role, ...). `choice` goes
// through on_choice (defaulting to on_field) for visitors that need the list.
// A visitor may still define any call itself: the struct's call finds the
// derived class's method first.
#include <string>
#include <vector>

#include "mlopt/core/any_options.h"

namespace mlopt {

template <class Derived>
class OptionsVisitor {
 public:
  template <typename T>
  void positional(const std::string& n, T& f, const std::string& h) { self().on_field(FieldRole::positional, n, f, h); }
  template <typename T>
  void optional_positional(const std::string& n, T& f, const std::string& h) {
    self().on_field(FieldRole::optional_positional, n, f, h);
  }
  template <typename T>
  void option(const std::string& n, T& f, const std::string& h) { self().on_field(FieldRole::option, n, f, h); }
  template <typename T>
  void required_option(const std::string& n, T& f, const std::string& h) {
    self().on_field(FieldRole::required_option, n, f, h);
  }
  void flag(const std::string& n, bool& f, const std::string& h) { self().on_field(FieldRole::flag, n, f, h); }
  void choice(const std::string& n, std::string& f, const std::vector<std::string>& choices, const std::string& h) {
    self().on_choice(n, f, choices, h);
  }
  void output(const std::string& n, std::string& f, const std::string& h) { self().on_field(FieldRole::output, n, f, h); }
  void optional_output(const std::string& n, std::string& f, const std::string& h) {
    self().on_field(FieldRole::optional_output, n, f, h);
  }
  void written_file(const std::string& n, std::string& f, const std::string& h) {
    self().on_field(FieldRole::written_file, n, f, h);
  }

  void on_choice(const std::string& n, std::string& f, const std::vector<std::string>&, const std::string& h) {
    self().on_field(FieldRole::choice, n, f, h);
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

// The model inputs of a command (filled by the pipeline from earlier steps).
inline bool is_positional_role(FieldRole role) {
  return role == FieldRole::positional || role == FieldRole::optional_positional;
}
// Paths the command writes: its artifact and side files.
inline bool is_output_role(FieldRole role) {
  return role == FieldRole::output || role == FieldRole::optional_output || role == FieldRole::written_file;
}

}  // namespace mlopt
