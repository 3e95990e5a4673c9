"""GPTQModel 7.7's reading of `dynamic`: which key decides each module, and which regexes PCRE2 compiles.

stdin: {"patterns": [str], "configs": [{dynamic}], "modules": [str]}
stdout: {"compiles": [bool], "decisions": [[null | false | {overrides}] per module] per config}
"""
import json
import os
import sys


def compiles(pattern):
    import pcre

    try:
        pcre.compile(pattern)
        return True
    except Exception:
        return False


def main():
    request = json.load(sys.stdin)
    # GPTQModel logs banners to stdout; keep stdout for the JSON reply alone.
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    from gptqmodel.quantization.config import QuantizeConfig

    decisions = []
    for dynamic in request["configs"]:
        # __post_init__ moves the "-" keys first, as loading a quantize_config.json does.
        config = QuantizeConfig(bits=4, group_size=128, dynamic=dynamic)
        decisions.append([config.dynamic_get(layer_name=m) for m in request["modules"]])
    reply = {"compiles": [compiles(p) for p in request["patterns"]], "decisions": decisions}
    sys.stdout.flush()
    os.dup2(reply_fd, 1)
    json.dump(reply, sys.stdout)


if __name__ == "__main__":
    main()
