import type { Command } from 'commander';
import { registerList } from './list.js';
import { registerInfo } from './info.js';
import { registerInit } from './init.js';
import { registerStart } from './start.js';
import { registerSidecar } from './sidecar.js';
import { registerDemo } from './demo.js';

/** Every top-level command, in help order. Each module adds exactly one command. */
export const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerStart,
  registerList,
  registerInfo,
  registerInit,
  registerDemo,
  registerSidecar,
];
