// The `tslm` command line. Each command lives in its own file under src/cli/ and registers itself
// on the commander program here; commands compose the library and contain no math.
import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { registerBench } from "./bench.js";
import { registerChat } from "./chat.js";
import { registerEval } from "./eval.js";
import { registerFillMask } from "./fill_mask.js";
import { registerFinetune } from "./finetune.js";
import { registerData } from "./data.js";
import { registerClassify } from "./classify.js";
import { registerGenerate } from "./generate.js";
import { registerInfo } from "./info.js";
import { registerServe } from "./serve.js";
import { registerTokenizer } from "./tokenizer.js";
import { registerTrain } from "./train.js";

function version(): string {
  const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "package.json"), "utf8"));
  return pkg.version as string;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("tslm")
    .description("Transformer language models in TypeScript: train, fine-tune, evaluate, generate, serve.")
    .version(version())
    .showHelpAfterError()
    .exitOverride();
  // Commands register here, one line each.
  registerBench(program);
  registerTokenizer(program);
  registerTrain(program);
  registerInfo(program);
  registerEval(program);
  registerFillMask(program);
  registerFinetune(program);
  registerData(program);
  registerClassify(program);
  registerGenerate(program);
  registerChat(program);
  registerServe(program);
  return program;
}

/** Runs the CLI with the given arguments (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed help or the usage error.
      return err.exitCode;
    }
    throw err;
  }
}
