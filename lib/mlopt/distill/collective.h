#pragma once
// Data-parallel training needs three collectives; the trainer sees only this
// interface so that it can be tested in one process and run over c10d (Gloo)
// across processes and machines (see gloo_collective.cpp).
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

namespace mlopt::distill {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Element-wise sum over ranks, in place; every rank gets the result.
  virtual void all_reduce_sum(at::Tensor& tensor) = 0;
  // Rank 0's tensor replaces every other rank's, in place.
  virtual void broadcast_from_root(at::Tensor& tensor) = 0;
  virtual void barrier() = 0;
};

// Where the process sits in a torchrun-style launch: RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT, LOCAL_RANK. Absent or WORLD_SIZE=1: one process.
struct LaunchEnvironment {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool distributed() const { return world_size > 1; }
};

// Reads the launch environment; malformed values are errors naming the variable.
LaunchEnvironment read_launch_environment();

// Joins the process group described by `env` (c10d TCPStore rendezvous at
// MASTER_ADDR:MASTER_PORT, Gloo over TCP). Blocks until every rank has joined
// or `timeout_seconds` passes.
std::unique_ptr<Collective> join_process_group(const LaunchEnvironment& env, int timeout_seconds = 300);

// Sums `tensors` over ranks and divides by the world size, in place, with one
// collective call on a flat buffer (gradients after backward).
void all_reduce_mean(Collective& collective, const std::vector<at::Tensor>& tensors);
// Rank 0's values replace every rank's (initial weights).
void broadcast_from_root(Collective& collective, const std::vector<at::Tensor>& tensors);

}  // namespace mlopt::distill
