#include "mlopt/serve/v2_protocol.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "mlopt/core/shape_text.h"
#include "mlopt/serve/half_float.h"
#include "mlopt/serve/validate.h"

using nlohmann::json;

namespace mlopt::serving {
namespace {

// Appends the JSON data of one input (flat or nested lists) as elements of T.
template <typename T>
void append_elements(const json& data, const std::string& input, std::string& bytes, int64_t& count) {
  if (data.is_array()) {
    for (const auto& item : data) append_elements<T>(item, input, bytes, count);
    return;
  }
  T value{};
  if constexpr (std::is_same_v<T, bool>) {
    if (!data.is_boolean()) bad_request(fmt::format("input '{}': element {} is {}, expected true or false", input, count, data.dump()));
    value = data.get<bool>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!data.is_number()) bad_request(fmt::format("input '{}': element {} is {}, expected a number", input, count, data.dump()));
    value = static_cast<T>(data.get<double>());
  } else {
    const bool integral = data.is_number_integer() ||
                          (data.is_number_float() && std::trunc(data.get<double>()) == data.get<double>());
    if (!integral) bad_request(fmt::format("input '{}': element {} is {}, expected an integer", input, count, data.dump()));
    const double v = data.get<double>();
    if (v < static_cast<double>(std::numeric_limits<T>::lowest()) || v > static_cast<double>(std::numeric_limits<T>::max()))
      bad_request(fmt::format("input '{}': element {} is {}, out of range for its datatype", input, count, data.dump()));
    value = data.is_number_float() ? static_cast<T>(v) : data.is_number_unsigned() ? static_cast<T>(data.get<uint64_t>())
                                                                                    : static_cast<T>(data.get<int64_t>());
  }
  bytes.append(reinterpret_cast<const char*>(&value), sizeof(T));
  ++count;
}

// FP16/BF16 in JSON: numbers, checked as FP32 and stored as 16-bit values.
int64_t append_half(const json& data, HostTensor& tensor, uint16_t (*convert)(float)) {
  std::string floats;
  int64_t count = 0;
  append_elements<float>(data, tensor.name, floats, count);
  for (int64_t i = 0; i < count; ++i) {
    float value;
    std::memcpy(&value, floats.data() + i * sizeof(float), sizeof value);
    const uint16_t half = convert(value);
    const float back = convert == fp16_from_float ? float_from_fp16(half) : float_from_bf16(half);
    if (std::isinf(back))
      bad_request(fmt::format("input '{}': element {} is {}, out of range for {}", tensor.name, i, value, tensor.datatype));
    tensor.bytes.append(reinterpret_cast<const char*>(&half), sizeof half);
  }
  return count;
}

int64_t decode_data(const json& data, HostTensor& tensor) {
  int64_t count = 0;
  const std::string& t = tensor.datatype;
  const std::string& n = tensor.name;
  if (t == "FP32") append_elements<float>(data, n, tensor.bytes, count);
  else if (t == "FP64") append_elements<double>(data, n, tensor.bytes, count);
  else if (t == "INT64") append_elements<int64_t>(data, n, tensor.bytes, count);
  else if (t == "INT32") append_elements<int32_t>(data, n, tensor.bytes, count);
  else if (t == "INT16") append_elements<int16_t>(data, n, tensor.bytes, count);
  else if (t == "INT8") append_elements<int8_t>(data, n, tensor.bytes, count);
  else if (t == "UINT8") append_elements<uint8_t>(data, n, tensor.bytes, count);
  else if (t == "BOOL") append_elements<bool>(data, n, tensor.bytes, count);
  else if (t == "FP16") return append_half(data, tensor, fp16_from_float);
  else if (t == "BF16") return append_half(data, tensor, bf16_from_float);
  else bad_request(fmt::format("input '{}': {} data must be sent as binary (parameters.binary_data_size)", n, t));
  return count;
}

std::vector<int64_t> shape_of(const json& input, const std::string& name) {
  if (!input.contains("shape") || !input["shape"].is_array())
    bad_request(fmt::format("input '{}': \"shape\" must be a list of integers", name));
  std::vector<int64_t> shape;
  for (const auto& d : input["shape"]) {
    if (!d.is_number_integer()) bad_request(fmt::format("input '{}': \"shape\" must be a list of integers, has {}", name, d.dump()));
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

const json* parameter(const json& object, const char* key) {
  auto params = object.find("parameters");
  if (params == object.end() || !params->is_object()) return nullptr;
  auto it = params->find(key);
  return it == params->end() ? nullptr : &*it;
}

HostTensor decode_input(const json& input, const Signature& signature, const std::string& binary, size_t& binary_at) {
  if (!input.is_object() || !input.contains("name") || !input["name"].is_string())
    bad_request("every element of \"inputs\" must be an object with a \"name\"");
  HostTensor tensor;
  tensor.name = input["name"];
  const TensorSpec& spec = spec_named(signature, tensor.name);
  if (!input.contains("datatype") || !input["datatype"].is_string())
    bad_request(fmt::format("input '{}': \"datatype\" missing, expected {}", tensor.name, spec.datatype));
  tensor.datatype = input["datatype"];
  tensor.shape = shape_of(input, tensor.name);
  check_header(tensor, spec);
  const int64_t elements = tensor.numel();
  const int64_t expected_bytes = elements * element_size(tensor.datatype);
  if (const json* size = parameter(input, "binary_data_size")) {
    if (!size->is_number_unsigned())
      bad_request(fmt::format("input '{}': parameters.binary_data_size must be a byte count", tensor.name));
    const uint64_t n = size->get<uint64_t>();
    if (n != static_cast<uint64_t>(expected_bytes))
      bad_request(fmt::format("input '{}': binary_data_size is {} bytes, shape {} of {} needs {}", tensor.name, n,
                         sizes_text(tensor.shape), tensor.datatype, expected_bytes));
    if (n > binary.size() - binary_at)
      bad_request(fmt::format("input '{}': binary_data_size is {} bytes, only {} follow the JSON header", tensor.name, n,
                         binary.size() - binary_at));
    tensor.bytes = binary.substr(binary_at, n);
    binary_at += n;
    return tensor;
  }
  if (!input.contains("data")) bad_request(fmt::format("input '{}': no \"data\" (or parameters.binary_data_size)", tensor.name));
  tensor.bytes.reserve(static_cast<size_t>(expected_bytes));
  const int64_t count = decode_data(input["data"], tensor);
  if (count != elements)
    bad_request(fmt::format("input '{}': shape {} has {} elements, \"data\" has {}", tensor.name, sizes_text(tensor.shape),
                       elements, count));
  return tensor;
}

std::vector<RequestedOutput> decode_outputs(const json& request, const Signature& signature) {
  std::vector<RequestedOutput> outputs;
  auto it = request.find("outputs");
  if (it == request.end()) return outputs;
  if (!it->is_array()) bad_request("\"outputs\" must be a list of {\"name\": ...} objects");
  for (const auto& o : *it) {
    if (!o.is_object() || !o.contains("name") || !o["name"].is_string())
      bad_request("every element of \"outputs\" must be an object with a \"name\"");
    RequestedOutput out{o["name"].get<std::string>(), false};
    bool known = false;
    std::string names;
    for (const auto& spec : signature.outputs) {
      known = known || spec.name == out.name;
      names += (names.empty() ? "" : ", ") + spec.name;
    }
    if (!known) bad_request(fmt::format("unknown output '{}' (model '{}' returns: {})", out.name, signature.name, names));
    if (const json* b = parameter(o, "binary_data")) out.binary = b->is_boolean() && b->get<bool>();
    outputs.push_back(out);
  }
  return outputs;
}

template <typename T>
void write_values(std::string& out, const std::string& bytes) {
  const size_t n = bytes.size() / sizeof(T);
  out += '[';
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, bytes.data() + i * sizeof(T), sizeof(T));
    if (i) out += ',';
    if constexpr (std::is_same_v<T, bool>) {
      out += v ? "true" : "false";
    } else if constexpr (std::is_floating_point_v<T>) {
      if (std::isfinite(v)) fmt::format_to(std::back_inserter(out), "{}", v);
      else out += "null";  // JSON has no NaN/Inf; binary output keeps them
    } else {
      fmt::format_to(std::back_inserter(out), "{}", +v);
    }
  }
  out += ']';
}

// FP16/BF16 values as the shortest text that reads back as the same float.
void write_halves(std::string& out, const std::string& bytes, float (*widen)(uint16_t)) {
  std::string floats;
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    uint16_t half;
    std::memcpy(&half, bytes.data() + i, sizeof half);
    const float value = widen(half);
    floats.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  write_values<float>(out, floats);
}

void write_data(std::string& out, const HostTensor& t) {
  const std::string& d = t.datatype;
  if (d == "FP32") write_values<float>(out, t.bytes);
  else if (d == "FP64") write_values<double>(out, t.bytes);
  else if (d == "INT64") write_values<int64_t>(out, t.bytes);
  else if (d == "INT32") write_values<int32_t>(out, t.bytes);
  else if (d == "INT16") write_values<int16_t>(out, t.bytes);
  else if (d == "INT8") write_values<int8_t>(out, t.bytes);
  else if (d == "UINT8") write_values<uint8_t>(out, t.bytes);
  else if (d == "BOOL") write_values<bool>(out, t.bytes);
  else if (d == "FP16") write_halves(out, t.bytes, float_from_fp16);
  else if (d == "BF16") write_halves(out, t.bytes, float_from_bf16);
  else out += "null";
}

}  // namespace

InferRequest parse_infer_request(const std::string& body, std::optional<size_t> json_length, const Signature& signature) {
  if (json_length && *json_length > body.size())
    bad_request(fmt::format("Inference-Header-Content-Length is {}, the body has {} bytes", *json_length, body.size()));
  const size_t header_size = json_length ? *json_length : body.size();
  json request = json::parse(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(header_size), nullptr, false);
  if (request.is_discarded()) bad_request("malformed JSON in the request body");
  if (!request.is_object()) bad_request("the request body must be a JSON object");
  const std::string binary = json_length ? body.substr(header_size) : std::string();

  InferRequest parsed;
  if (auto id = request.find("id"); id != request.end() && id->is_string()) parsed.id = *id;
  auto inputs = request.find("inputs");
  if (inputs == request.end() || !inputs->is_array() || inputs->empty())
    bad_request("\"inputs\" must be a non-empty list of tensors");
  std::vector<HostTensor> decoded;
  size_t binary_at = 0;
  for (const auto& input : *inputs) decoded.push_back(decode_input(input, signature, binary, binary_at));
  if (binary_at != binary.size())
    bad_request(fmt::format("{} bytes follow the JSON header, the inputs' binary_data_size add up to {}", binary.size(), binary_at));

  std::vector<const HostTensor*> by_position(signature.inputs.size(), nullptr);
  for (const auto& tensor : decoded)
    for (size_t i = 0; i < signature.inputs.size(); ++i)
      if (signature.inputs[i].name == tensor.name) {
        if (by_position[i]) bad_request(fmt::format("input '{}' is given twice", tensor.name));
        by_position[i] = &tensor;
      }
  check_complete(by_position, signature);
  for (const auto* tensor : by_position) parsed.inputs.push_back(*tensor);
  parsed.outputs = decode_outputs(request, signature);
  if (const json* b = parameter(request, "binary_data_output")) parsed.binary_output = b->is_boolean() && b->get<bool>();
  return parsed;
}

InferResponse encode_infer_response(const std::string& model_name, const InferRequest& request,
                                    const std::vector<HostTensor>& outputs, const std::string& model_version) {
  std::vector<std::pair<const HostTensor*, bool>> chosen;  // tensor, as binary
  if (request.outputs.empty()) {
    for (const auto& t : outputs) chosen.push_back({&t, request.binary_output});
  } else {
    for (const auto& want : request.outputs)
      for (const auto& t : outputs)
        if (t.name == want.name) chosen.push_back({&t, want.binary || request.binary_output});
  }
  std::string out = "{\"model_name\":" + json(model_name).dump();
  if (!model_version.empty()) out += ",\"model_version\":" + json(model_version).dump();
  if (!request.id.empty()) out += ",\"id\":" + json(request.id).dump();
  out += ",\"outputs\":[";
  std::string binary;
  for (size_t i = 0; i < chosen.size(); ++i) {
    const HostTensor& t = *chosen[i].first;
    if (i) out += ',';
    out += "{\"name\":" + json(t.name).dump() + ",\"datatype\":\"" + t.datatype + "\",\"shape\":[";
    for (size_t d = 0; d < t.shape.size(); ++d) out += (d ? "," : "") + std::to_string(t.shape[d]);
    out += "]";
    if (chosen[i].second) {
      out += ",\"parameters\":{\"binary_data_size\":" + std::to_string(t.bytes.size()) + "}}";
      binary += t.bytes;
    } else {
      out += ",\"data\":";
      write_data(out, t);
      out += "}";
    }
  }
  out += "]}";
  InferResponse response;
  if (binary.empty()) {
    response.content_type = "application/json";
    response.body = std::move(out);
  } else {
    response.content_type = "application/octet-stream";
    response.json_length = out.size();
    response.body = std::move(out) + binary;
  }
  return response;
}

std::string error_body(const std::string& message) { return json{{"error", message}}.dump(); }

}  // namespace mlopt::serving
