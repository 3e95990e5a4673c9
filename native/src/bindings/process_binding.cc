// dieWithParent(parentPid): the kernel ends this process with SIGKILL when its parent dies. The job worker's
// IPC 'disconnect' handler cannot run while the event loop is blocked (a long synchronous call: tokenizing a
// large text, reading a model), so a worker whose runner was killed -9 would compute on and write its output
// afterwards. PR_SET_PDEATHSIG needs no event loop. A parent that died before the call is caught by comparing
// getppid() with the pid the worker saw at start (the child was re-parented by then).
#include <napi.h>

#include <csignal>

#if defined(__linux__)
#include <sys/prctl.h>
#include <unistd.h>
#endif

#include "bindings/register.h"

namespace {

// Returns true where the kernel now watches the parent, false where the platform has no such call.
Napi::Value DieWithParent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(env, "dieWithParent(parentPid): parentPid must be a number");
  }
#if defined(__linux__)
  const pid_t parent = static_cast<pid_t>(info[0].As<Napi::Number>().Int64Value());
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    throw Napi::Error::New(env, "dieWithParent: prctl(PR_SET_PDEATHSIG) failed");
  }
  if (getppid() != parent) kill(getpid(), SIGKILL);  // the parent died before the watch was set
  return Napi::Boolean::New(env, true);
#else
  return Napi::Boolean::New(env, false);
#endif
}

const quantstudio::Registration kRegistration([](Napi::Env env, Napi::Object exports) {
  exports.Set("dieWithParent", Napi::Function::New(env, DieWithParent, "dieWithParent"));
});

}  // namespace
