#include "bindings/register.h"

#include <vector>

namespace quantstudio {
namespace {

std::vector<Registrar>& Registrars() {
  static std::vector<Registrar> registrars;  // function-local: safe from static init order
  return registrars;
}

}  // namespace

Registration::Registration(Registrar registrar) { Registrars().push_back(std::move(registrar)); }

void RegisterAll(Napi::Env env, Napi::Object exports) {
  for (const auto& registrar : Registrars()) registrar(env, exports);
}

}  // namespace quantstudio
