/**
 * Imported first by bench/target.ts: our bridge's process gets the heap setting that
 * bin/matrix-agent-bridge.js gives it in production; the bare library's reference keeps Node's
 * defaults (TargetProcess.start says which one this process is).
 */
import { keepYoungGenerationSmall } from "../../src/cli/leanHeap";

if (process.env.MAB_BENCH_TARGET_KIND !== "bare") keepYoungGenerationSmall();
