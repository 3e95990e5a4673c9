// A bench part's numeric command-line option: `--name N`, or the fallback.
export function numberArg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
