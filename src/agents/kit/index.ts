/** The agent kit: everything an agent may use besides `../types` (see core.ts). */
export * from "./core";
export * from "./limits";
export * from "./time";
export * from "./matrix";
export * from "./editDistance";
