/**
 * The MCP server the agent talks to (docs/architecture.md §7a): name `bot-bottle-supervise`, the
 * three tools with their input and output schemas. One server per HTTP request (stateless mode).
 *
 * `tools/call` is answered by our own handler rather than the SDK's per-tool callbacks: the SDK
 * would reject bad arguments with its own "Input validation error" text, while the agent must get
 * `invalid proposal: <issues>` (or the credentials refusal) and nothing filed
 * (docs/decisions/supervise-daemon-mcp.md). The schemas registered with the SDK are the same
 * objects our handler validates with, so what `tools/list` declares is what is enforced.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, type CallToolResult, type ServerNotification, type ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { VERSION } from '../version.js';
import type { Broker } from './broker.js';
import type { SuperviseConfig } from './config.js';
import { listRoutes, waitForGeneration } from './egress-view.js';
import type { Kind } from './proposal-kinds.js';
import {
  CapabilityBlockInput, checkCapabilityBlock, checkEgressAllow, checkListRoutes, DecisionOutput, EgressAllowInput,
  ListRoutesInput, ListRoutesOutput,
} from './proposal-schemas.js';
import { decisionResult } from './tool-results.js';

export const SERVER_NAME = 'bot-bottle-supervise';
export const TOOL_NAMES = ['list-egress-routes', 'egress-allow', 'capability-block'] as const;
export const PROGRESS_INTERVAL_MS = 15_000;

const INSTRUCTIONS =
  'bot-bottle supervise: this sandbox reaches the network only through its egress routes. ' +
  'Call list-egress-routes to see them. When the task needs a host or path that is denied, call ' +
  'egress-allow with the narrowest routes and a justification; for software the image lacks, call ' +
  'capability-block with a Dockerfile. Each call waits for a human operator (up to several minutes) ' +
  'and returns approved, modified or rejected with notes. Credentials cannot be proposed.';

export interface ToolContext {
  broker: Broker;
  config: SuperviseConfig;
  /** Aborted when the agent's HTTP request goes away (client disconnect). */
  connection: AbortSignal;
  log: (line: string) => void;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const errorResult = (text: string): CallToolResult => ({ content: [{ type: 'text', text }], isError: true });
const okResult = (obj: Record<string, unknown>): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(obj) }], structuredContent: obj });

export function createMcpServer(ctx: ToolContext): McpServer {
  const mcp = new McpServer({ name: SERVER_NAME, version: VERSION }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  const unused = async (): Promise<CallToolResult> => errorResult('internal: not dispatched here');
  mcp.registerTool('list-egress-routes', {
    description: 'List the egress routes this bottle has now (hosts, ports, path/method matches, DLP); never credentials.',
    inputSchema: ListRoutesInput,
    outputSchema: ListRoutesOutput,
    annotations: { readOnlyHint: true },
  }, unused);
  mcp.registerTool('egress-allow', {
    description:
      'Ask the operator to allow new egress routes (1-20). Blocks until the operator answers or the request times out; ' +
      'returns approved (with the applied routes), modified or rejected with notes. No credentials (auth) can be proposed.',
    inputSchema: EgressAllowInput,
    outputSchema: DecisionOutput,
  }, unused);
  mcp.registerTool('capability-block', {
    description:
      'Ask the operator for a different agent image (a complete Dockerfile starting with FROM). Blocks until answered; ' +
      'on approval the bottle stops and resumes on the new image.',
    inputSchema: CapabilityBlockInput,
    outputSchema: DecisionOutput,
  }, unused);
  mcp.server.setRequestHandler(CallToolRequestSchema, (req, extra) => callTool(ctx, req.params.name, req.params.arguments, extra));
  return mcp;
}

async function callTool(ctx: ToolContext, name: string, args: unknown, extra: Extra): Promise<CallToolResult> {
  switch (name) {
    case 'list-egress-routes': {
      const c = checkListRoutes(args);
      if (!c.ok) return errorResult(c.message);
      try {
        return okResult({ ...(await listRoutes(ctx.config.introspectUrl, ctx.config.routesFile)) });
      } catch (err) {
        ctx.log(`list-egress-routes: ${(err as Error).message}`);
        return errorResult('the egress routes cannot be read right now (egress down and routes file unreadable)');
      }
    }
    case 'egress-allow': {
      const c = checkEgressAllow(args);
      if (!c.ok) return errorResult(c.message);
      return propose(ctx, 'egress-allow', { routes: c.value.routes }, c.value.justification, extra);
    }
    case 'capability-block': {
      const c = checkCapabilityBlock(args);
      if (!c.ok) return errorResult(c.message);
      return propose(ctx, 'capability-block', { dockerfile: c.value.dockerfile }, c.value.justification, extra);
    }
    default:
      return errorResult(`unknown tool "${name}" (tools: ${TOOL_NAMES.join(', ')})`);
  }
}

async function propose(ctx: ToolContext, kind: Kind, payload: Record<string, unknown>, justification: string, extra: Extra): Promise<CallToolResult> {
  const timeout = ctx.config.toolTimeoutSeconds;
  const filed = await ctx.broker.file({ kind, origin: 'agent', payload, justification, timeoutSeconds: timeout });
  if (!filed.ok) return errorResult(filed.message);
  const id = filed.id;
  const gone = AbortSignal.any([ctx.connection, extra.signal]);
  const token = extra._meta?.progressToken;
  let ticks = 0;
  const progress =
    token === undefined
      ? null
      : setInterval(() => {
          ticks++;
          extra
            .sendNotification({
              method: 'notifications/progress',
              params: { progressToken: token, progress: ticks, message: `waiting for the operator to answer proposal ${id}` },
            })
            .catch(() => undefined);
        }, PROGRESS_INTERVAL_MS);
  try {
    const outcome = await ctx.broker.wait(id, gone);
    const proposed = ctx.broker.payloadOf(id) ?? payload;
    let seen = true;
    if (kind === 'egress-allow' && (outcome.state === 'approved' || outcome.state === 'modified') && outcome.appliedGeneration !== null) {
      seen = await waitForGeneration(ctx.config.introspectUrl, outcome.appliedGeneration, gone);
    }
    return okResult({ ...decisionResult(kind, id, proposed, outcome, ctx.broker.timeoutOf(id) ?? timeout, seen) });
  } finally {
    if (progress) clearInterval(progress);
  }
}
