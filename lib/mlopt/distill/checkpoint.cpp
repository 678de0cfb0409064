#include "mlopt/distill/checkpoint.h"

#include <torch/optim.h>
#include <torch/serialize.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/distill/trainer.h"

namespace mlopt::distill {
namespace {

void write_tensors(torch::serialize::OutputArchive& archive, const std::string& key,
                   const std::vector<at::Tensor>& tensors) {
  torch::serialize::OutputArchive nested;
  for (size_t i = 0; i < tensors.size(); ++i) nested.write("t" + std::to_string(i), tensors[i].detach(), true);
  nested.write("count", c10::IValue(static_cast<int64_t>(tensors.size())));
  archive.write(key, nested);
}

std::vector<at::Tensor> read_tensors(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::serialize::InputArchive nested;
  archive.read(key, nested);
  c10::IValue count;
  nested.read("count", count);
  std::vector<at::Tensor> tensors(count.toInt());
  for (size_t i = 0; i < tensors.size(); ++i) nested.read("t" + std::to_string(i), tensors[i], true);
  return tensors;
}

nlohmann::json history_to_json(const std::vector<EpochStats>& history) {
  auto out = nlohmann::json::array();
  for (const auto& e : history)
    out.push_back({{"epoch", e.epoch}, {"lr", e.lr}, {"train_loss", e.train_loss},
                   {"train_accuracy", e.train_accuracy}, {"val_accuracy", e.val_accuracy},
                   {"samples", e.samples}, {"seconds", e.seconds}});
  return out;
}

std::vector<EpochStats> history_from_json(const nlohmann::json& j) {
  std::vector<EpochStats> history;
  for (const auto& e : j) {
    EpochStats s;
    s.epoch = e.at("epoch");
    s.lr = e.at("lr");
    s.train_loss = e.at("train_loss");
    s.train_accuracy = e.at("train_accuracy");
    s.val_accuracy = e.at("val_accuracy");
    s.samples = e.at("samples");
    s.seconds = e.at("seconds");
    history.push_back(s);
  }
  return history;
}

}  // namespace

std::string checkpoint_path(const std::string& dir) { return (std::filesystem::path(dir) / "checkpoint.pt").string(); }

void save_checkpoint(const std::string& dir, const TrainerState& state, torch::optim::Optimizer& optimizer) {
  std::string path = checkpoint_path(dir);
  ensure_parent_dir(path);
  torch::serialize::OutputArchive archive;
  archive.write("epoch", c10::IValue(static_cast<int64_t>(state.epoch)));
  archive.write("best_epoch", c10::IValue(static_cast<int64_t>(state.best_epoch)));
  archive.write("best_val_accuracy", c10::IValue(state.best_val_accuracy));
  archive.write("fingerprint", c10::IValue(state.fingerprint));
  archive.write("history", c10::IValue(history_to_json(state.history).dump()));
  archive.write("rng_state", state.rng_state, true);
  write_tensors(archive, "student", state.student);
  write_tensors(archive, "best", state.best);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  write_atomically(path, [&](const std::string& tmp) {
    with_context(fmt::format("writing checkpoint '{}'", path), [&] { archive.save_to(tmp); });
  });
}

void load_checkpoint(const std::string& dir, TrainerState& state, torch::optim::Optimizer& optimizer) {
  std::string path = checkpoint_path(dir);
  if (!file_exists(path)) fail("--resume: no checkpoint '{}' (run with --checkpoint {} first)", path, dir);
  std::string expected_fingerprint = state.fingerprint;
  size_t expected_tensors = state.student.size();
  with_context(fmt::format("reading checkpoint '{}'", path), [&] {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    c10::IValue v;
    archive.read("epoch", v);
    state.epoch = static_cast<int>(v.toInt());
    archive.read("best_epoch", v);
    state.best_epoch = static_cast<int>(v.toInt());
    archive.read("best_val_accuracy", v);
    state.best_val_accuracy = v.toDouble();
    archive.read("fingerprint", v);
    state.fingerprint = v.toStringRef();
    archive.read("history", v);
    state.history = history_from_json(nlohmann::json::parse(v.toStringRef()));
    archive.read("rng_state", state.rng_state, true);
    state.student = read_tensors(archive, "student");
    state.best = read_tensors(archive, "best");
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
  });
  if (state.fingerprint != expected_fingerprint)
    fail("--resume: checkpoint '{}' was made with other settings ({}; now {})", path, state.fingerprint,
         expected_fingerprint);
  if (state.student.size() != expected_tensors)
    fail("--resume: checkpoint '{}' holds {} tensors, the student has {} (another model?)", path,
         state.student.size(), expected_tensors);
}

}  // namespace mlopt::distill
