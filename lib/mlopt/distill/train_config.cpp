#include "mlopt/distill/train_config.h"

#include <cmath>

#include "mlopt/core/error.h"

namespace mlopt::distill {

void check_train_config(const TrainConfig& c) {
  if (c.resume && c.checkpoint_dir.empty()) fail_usage("--resume needs --checkpoint DIR");
  if (!(c.lr > 0 && std::isfinite(c.lr))) fail_usage("--lr {}: expected a positive finite number", c.lr);
  if (c.epochs < 1) fail_usage("--epochs {}: expected at least 1", c.epochs);
  if (c.batch_size < 1) fail_usage("--batch-size {}: expected at least 1", c.batch_size);
  if (!(c.weight_decay >= 0 && std::isfinite(c.weight_decay)))
    fail_usage("--weight-decay {}: expected a finite number, 0 or more", c.weight_decay);
  if (!(c.alpha >= 0 && c.alpha <= 1)) fail_usage("--alpha {}: expected a weight in [0, 1]", c.alpha);
  if (!(c.temperature > 0 && std::isfinite(c.temperature)))
    fail_usage("--temperature {}: expected a positive finite number", c.temperature);
}

}  // namespace mlopt::distill
