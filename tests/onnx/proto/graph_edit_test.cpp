// The ONNX protobuf toolkit's graph edits: fresh names, one meaning of
// "unused initializer", the output-Identity fold, and the dtype map.
#include <catch2/catch.hpp>
#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include "mlopt/onnx/proto/dtype.h"
#include "mlopt/onnx/proto/fold_output_identities.h"
#include "mlopt/onnx/proto/graph_edit.h"
#include "mlopt/onnx/proto/node.h"
#include "mlopt/onnx/proto/tensor.h"

namespace proto = mlopt::onnx_proto;

namespace {

void add_input(onnx::GraphProto& g, const std::string& name) { g.add_input()->set_name(name); }
void add_output(onnx::GraphProto& g, const std::string& name) { g.add_output()->set_name(name); }
void add_init(onnx::GraphProto& g, const std::string& name) {
  *g.add_initializer() = proto::tensor_to_proto(torch::ones({2}), name);
}
std::vector<std::string> names_of(const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) out.push_back(v.name());
  return out;
}

}  // namespace

TEST_CASE("onnx proto: fresh names collide with nothing in the graph", "[onnx][onnx-proto]") {
  onnx::GraphProto g;
  add_input(g, "x");
  add_init(g, "w");
  *g.add_node() = proto::make_node("Relu", {"x"}, {"y"}, "relu");
  proto::FreshNames names(g);
  CHECK(names.fresh("z") == "z");
  CHECK(names.fresh("x") == "x_1");
  CHECK(names.fresh("x") == "x_2");
  CHECK(names.fresh("w") == "w_1");
  CHECK(names.fresh("y") == "y_1");
}

TEST_CASE("onnx proto: unused initializers go with the graph inputs that declared them", "[onnx][onnx-proto]") {
  onnx::GraphProto g;
  add_input(g, "x");
  add_input(g, "unused_input");  // a real input nothing reads stays: it is the model's signature
  add_input(g, "old_w");         // an initializer declared as an input (older exporters)
  add_init(g, "old_w");
  add_init(g, "w");
  add_init(g, "in_body");
  add_init(g, "as_output");
  *g.add_node() = proto::make_node("Add", {"x", "w"}, {"y"}, "add");
  onnx::GraphProto body;
  *body.add_node() = proto::make_node("Mul", {"y", "in_body"}, {"z"}, "mul");
  add_output(body, "z");
  auto node = proto::make_node("If", {"c"}, {"r"}, "if", {{"then_branch", body}, {"else_branch", body}});
  *g.add_node() = node;
  add_output(g, "r");
  add_output(g, "as_output");

  CHECK(proto::remove_unused_initializers(g) == 1);
  std::vector<std::string> inits;
  for (const auto& t : g.initializer()) inits.push_back(t.name());
  CHECK(inits == std::vector<std::string>{"w", "in_body", "as_output"});
  CHECK(names_of(g.input()) == std::vector<std::string>{"x", "unused_input"});
  CHECK(proto::remove_unused_initializers(g) == 0);
}

TEST_CASE("onnx proto: an output Identity folds into its producer", "[onnx][onnx-proto]") {
  onnx::GraphProto g;
  add_input(g, "x");
  *g.add_node() = proto::make_node("Relu", {"x"}, {"a"}, "relu");
  *g.add_node() = proto::make_node("Identity", {"a"}, {"out"}, "id");
  // Kept: its input is also read by another node.
  *g.add_node() = proto::make_node("Neg", {"x"}, {"b"}, "neg");
  *g.add_node() = proto::make_node("Identity", {"b"}, {"out2"}, "id2");
  *g.add_node() = proto::make_node("Abs", {"b"}, {"c"}, "abs");
  // Kept: its input is a graph input, not produced by a node.
  *g.add_node() = proto::make_node("Identity", {"x"}, {"out3"}, "id3");
  for (const char* o : {"out", "out2", "c", "out3"}) add_output(g, o);

  CHECK(proto::fold_output_identities(g) == 1);
  REQUIRE(g.node_size() == 5);
  CHECK(g.node(0).op_type() == "Relu");
  CHECK(g.node(0).output(0) == "out");
  CHECK(g.node(1).op_type() == "Neg");
  CHECK(g.node(2).op_type() == "Identity");
  CHECK(g.node(2).input(0) == "b");
  CHECK(names_of(g.output()) == std::vector<std::string>{"out", "out2", "c", "out3"});
  CHECK(proto::fold_output_identities(g) == 0);
}

TEST_CASE("onnx proto: dead nodes go, subgraph readers keep values alive", "[onnx][onnx-proto]") {
  onnx::GraphProto g;
  add_input(g, "x");
  *g.add_node() = proto::make_node("Relu", {"x"}, {"dead"}, "dead");
  *g.add_node() = proto::make_node("Neg", {"x"}, {"n"}, "neg");
  onnx::GraphProto body;
  *body.add_node() = proto::make_node("Identity", {"n"}, {"z"}, "id");
  add_output(body, "z");
  *g.add_node() = proto::make_node("Loop", {"", "c"}, {"r"}, "loop", {{"body", body}});
  add_output(g, "r");
  CHECK(proto::remove_dead_nodes(g) == 1);
  CHECK(g.node(0).op_type() == "Neg");
}

TEST_CASE("onnx proto: one dtype map for ONNX, LibTorch and mlopt names", "[onnx][onnx-proto]") {
  using TP = onnx::TensorProto;
  for (auto type : {at::kFloat, at::kDouble, at::kHalf, at::kBFloat16, at::kLong, at::kInt, at::kShort, at::kChar,
                    at::kByte, at::kBool})
    CHECK(proto::scalar_type_of_onnx(proto::onnx_type_of(type), "t") == type);
  CHECK(proto::onnx_type_of(at::kFloat) == TP::FLOAT);
  CHECK(proto::onnx_dtype_name(TP::FLOAT16) == "float16");
  CHECK(proto::onnx_dtype_name(TP::INT64) == "int64");
  CHECK(proto::onnx_dtype_name(TP::STRING).empty());
  CHECK_THROWS_WITH(proto::scalar_type_of_onnx(TP::STRING, "input 'x'"),
                    "input 'x': ONNX data type STRING is not supported by the evaluator");
  CHECK_THROWS_WITH(proto::onnx_type_of(at::kComplexFloat), Catch::Contains("has no ONNX equivalent"));
}

TEST_CASE("onnx proto: tensors round-trip through TensorProto", "[onnx][onnx-proto]") {
  auto t = torch::arange(6, at::kInt).reshape({2, 3});
  auto p = proto::tensor_to_proto(t, "t");
  CHECK(p.name() == "t");
  CHECK(torch::equal(proto::tensor_from_proto(p, "t"), t));
  p.mutable_raw_data()->pop_back();
  CHECK_THROWS_WITH(proto::tensor_from_proto(p, "initializer 't'"),
                    "initializer 't': raw data has 23 bytes, its shape and type need 24");
}
