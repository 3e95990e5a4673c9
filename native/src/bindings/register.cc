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

Registration::Registration(std::initializer_list<Export> exports)
    : Registration([list = std::vector<Export>(exports)](Napi::Env env, Napi::Object target) {
        for (const Export& e : list) target.Set(e.name, Napi::Function::New(env, e.callback, e.name));
      }) {}

void RegisterAll(Napi::Env env, Napi::Object exports) {
  for (const auto& registrar : Registrars()) registrar(env, exports);
}

}  // namespace quantstudio
