// Collectives over PyTorch's c10d: a TCPStore rendezvous at MASTER_ADDR:MASTER_PORT
// (rank 0 hosts it, as torchrun does) and a Gloo process group over TCP.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/distill/collective.h"

namespace mlopt::distill {
namespace {

int env_int(const char* name, int fallback, int minimum) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < minimum || value > 1 << 30)
    fail("environment variable {}='{}' is not a whole number >= {}", name, text, minimum);
  return static_cast<int>(value);
}

class GlooCollective : public Collective {
 public:
  GlooCollective(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<c10d::ProcessGroupGloo> group, int rank,
                 int world)
      : store_(std::move(store)), group_(std::move(group)), rank_(rank), world_(world) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  void all_reduce_sum(at::Tensor& tensor) override {
    std::vector<at::Tensor> tensors{tensor};
    with_context("all-reduce across ranks", [&] { group_->allreduce(tensors)->wait(); });
  }
  void broadcast_from_root(at::Tensor& tensor) override {
    std::vector<at::Tensor> tensors{tensor};
    c10d::BroadcastOptions options;
    options.rootRank = 0;
    with_context("broadcast from rank 0", [&] { group_->broadcast(tensors, options)->wait(); });
  }
  void barrier() override {
    with_context("barrier across ranks", [&] { group_->barrier()->wait(); });
  }

 private:
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  int rank_, world_;
};

// The network device Gloo binds to: GLOO_SOCKET_IFNAME as in PyTorch; the
// loopback address for single-machine launches; else this host's address.
std::shared_ptr<::gloo::transport::Device> gloo_device(const LaunchEnvironment& env) {
  const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
  if (interface != nullptr && *interface != '\0') return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  if (env.master_addr == "127.0.0.1" || env.master_addr == "localhost")
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

LaunchEnvironment read_launch_environment() {
  LaunchEnvironment env;
  env.world_size = env_int("WORLD_SIZE", 1, 1);
  env.rank = env_int("RANK", 0, 0);
  env.local_rank = env_int("LOCAL_RANK", 0, 0);
  env.master_port = env_int("MASTER_PORT", 29500, 1);
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') env.master_addr = addr;
  if (env.rank >= env.world_size) fail("RANK={} is not below WORLD_SIZE={}", env.rank, env.world_size);
  if (env.master_port > 65535) fail("MASTER_PORT={} is not a TCP port", env.master_port);
  return env;
}

std::unique_ptr<Collective> join_process_group(const LaunchEnvironment& env, int timeout_seconds) {
  auto timeout = std::chrono::milliseconds(1000LL * timeout_seconds);
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<uint16_t>(env.master_port);
  store_options.isServer = env.rank == 0;
  store_options.numWorkers = static_cast<size_t>(env.world_size);
  store_options.waitWorkers = true;
  store_options.timeout = timeout;
  log::debug("rank {}/{}: joining the process group at {}:{}", env.rank, env.world_size, env.master_addr,
             env.master_port);
  auto where = fmt::format("joining the process group at {}:{} as rank {} of {} (MASTER_ADDR, MASTER_PORT)",
                           env.master_addr, env.master_port, env.rank, env.world_size);
  return with_context(where, [&]() -> std::unique_ptr<Collective> {
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(gloo_device(env));
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, options);
    return std::make_unique<GlooCollective>(store, group, env.rank, env.world_size);
  });
}

void all_reduce_mean(Collective& collective, const std::vector<at::Tensor>& tensors) {
  if (tensors.empty()) return;
  std::vector<at::Tensor> flat;
  for (const auto& t : tensors) flat.push_back(t.detach().reshape(-1).to(at::kFloat));
  auto buffer = at::cat(flat);
  collective.all_reduce_sum(buffer);
  buffer.div_(collective.world_size());
  int64_t offset = 0;
  for (const auto& t : tensors) {
    int64_t n = t.numel();
    t.detach().copy_(buffer.slice(0, offset, offset + n).view(t.sizes()));
    offset += n;
  }
}

void broadcast_from_root(Collective& collective, const std::vector<at::Tensor>& tensors) {
  for (const auto& t : tensors) {
    auto value = t.detach().contiguous();
    collective.broadcast_from_root(value);
    if (!value.is_same(t)) t.detach().copy_(value);
  }
}

}  // namespace mlopt::distill
