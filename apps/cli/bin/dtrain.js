#!/usr/bin/env node
// The installed `dtrain` command. A committed shim, so package managers can
// link the bin before the TypeScript build has produced dist/.
import '../dist/main.js';
