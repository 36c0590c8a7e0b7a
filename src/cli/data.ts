// `tslm data prepare <name>`: writes a real labeled data set as seeded JSONL splits
// (train / validation / test) plus DATASET.json, and says where the data comes from and its licence.
// The sets and their sources are described in src/finetune/prepare.ts.
import { Command, CommanderError } from "commander";
import { homedir } from "node:os";
import { join } from "node:path";
import { prepareImdb, prepareZhEn, type PreparedSet } from "../finetune/prepare.js";

const SETS = ["imdb", "zh-en"] as const;

function fail(message: string): never {
  process.stderr.write(`tslm data: ${message}\n`);
  throw new CommanderError(1, "tslm.data", message);
}

interface PrepareFlags {
  out?: string;
  seed: number;
  train?: number;
  validation?: number;
  test?: number;
  maxChars?: number;
  cacheDir?: string;
  json?: boolean;
}

function prepare(name: string, o: PrepareFlags): void {
  if (!(SETS as readonly string[]).includes(name)) fail(`unknown data set "${name}" (available: ${SETS.join(", ")})`);
  const log = o.json ? (s: string) => process.stderr.write(s + "\n") : (s: string) => process.stdout.write(s + "\n");
  const out = o.out ?? join("data", name);
  const defaults = name === "imdb" ? { validation: 2500, test: 5000 } : { validation: 500, test: 1000 };
  const opts = {
    out,
    seed: o.seed,
    train: o.train,
    validation: o.validation ?? defaults.validation,
    test: o.test ?? defaults.test,
    maxChars: o.maxChars,
    cacheDir: o.cacheDir ?? process.env.TSLM_DATA_CACHE ?? join(homedir(), ".cache", "tslm", "data"),
    log,
  };
  let set: PreparedSet;
  try {
    set = name === "imdb" ? prepareImdb(opts) : prepareZhEn(opts);
  } catch (e) {
    fail(`prepare ${name}: ${(e as Error).message}`);
  }
  if (o.json) process.stdout.write(JSON.stringify(set) + "\n");
  else {
    log(`${set.name}: ${set.source}`);
    log(`licence: ${set.licence}`);
    if (set.citation) log(`cite: ${set.citation}`);
    log(`seed ${set.seed}: ${set.sizes.train} train / ${set.sizes.validation} validation / ${set.sizes.test} test -> ${set.out}/{train,validation,test}.jsonl`);
  }
}

export function registerData(program: Command): void {
  const int = (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got "${v}"`);
    return n;
  };
  const data = program.command("data").description("labeled data sets for fine-tuning");
  data
    .command("prepare <name>")
    .description(`write a real data set as seeded JSONL splits (${SETS.join(", ")}), with its source and licence`)
    .option("--out <dir>", "output folder (default data/<name>)")
    .option("--seed <n>", "seed of the split (default 1337)", int, 1337)
    .option("--train <n>", "training examples (default: all not held out)", int)
    .option("--validation <n>", "validation examples (imdb 2500, zh-en 500)", int)
    .option("--test <n>", "test examples (imdb 5000, zh-en 1000)", int)
    .option("--max-chars <n>", "zh-en: longest sentence kept, in characters (default 200)", int)
    .option("--cache-dir <dir>", "zh-en: where the Debian packages are downloaded and unpacked (default ~/.cache/tslm/data or TSLM_DATA_CACHE)")
    .option("--json", "print one JSON object")
    .action((name: string, o: PrepareFlags) => prepare(name, o));
}
