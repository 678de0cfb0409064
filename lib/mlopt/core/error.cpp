#include "mlopt/core/error.h"

#include "mlopt/core/libtorch_cause.h"

#include <c10/util/Exception.h>

namespace mlopt {

std::string first_line(const std::string& text) {
  auto end = text.find('\n');
  std::string line = text.substr(0, end);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

void rethrow_as_error(const std::string& context) {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    throw Error(fmt::format("{}: {}", context, libtorch_cause(e.what())), kExitError, e.what());
  } catch (const std::bad_alloc&) {
    throw Error(fmt::format("{}: out of memory", context));
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: {}", context, libtorch_cause(e.what())), kExitError, e.what());
  }
}

}  // namespace mlopt
