import type { Command } from 'commander';
import { registerList } from './list.js';
import { registerInfo } from './info.js';
import { registerInit } from './init.js';
import { registerStart } from './start.js';
import { registerSidecar } from './sidecar.js';
import { registerDemo } from './demo.js';
import { registerListActive } from './list-active.js';
import { registerCleanup } from './cleanup.js';
import { registerResume } from './resume.js';

/** Every top-level command, in help order. Each module adds exactly one command. */
export const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerStart,
  registerResume,
  registerList,
  registerListActive,
  registerInfo,
  registerInit,
  registerCleanup,
  registerDemo,
  registerSidecar,
];
