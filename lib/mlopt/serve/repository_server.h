#pragma once
// `mlopt serve REPO`: every model of a model repository (docs/registry.md)
// behind one KServe v2 endpoint. /v2/models/{name}/versions/{v}/infer pins a
// version; /v2/models/{name}/infer takes the promoted one (else the newest),
// or the --split shares, sticky per --split-key header. New and newly
// promoted versions are picked up while serving (a version that fails to load
// is logged and skipped; the others keep serving). Each version keeps a
// rolling drift window against its baseline: /metrics and
// GET /v2/models/{name}/drift. Every response names the version that answered
// (model_version, X-Model-Version) and every metric carries a version label.
#include <string>

#include "mlopt/serve/serve.h"

namespace mlopt::serving {

// A folder without manifest.json whose model folders hold published versions.
bool is_model_repository(const std::string& path);

ServeResult serve_repository(const ServeOptions& options, const GlobalOptions& global);

}  // namespace mlopt::serving
