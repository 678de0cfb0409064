// `mlopt serve`: an artifact or a release folder behind a KServe v2 HTTP
// endpoint (lib/mlopt/serve). A command without a pipeline step.
#include "mlopt/commands/command.h"
#include "mlopt/serve/serve.h"

namespace mlopt::commands {
Command serve_command() {
  return make_command("serve", "Serve an artifact over HTTP (KServe v2 protocol): batching, validation, metrics",
                      &serve);
}
}  // namespace mlopt::commands
