/**
 * The routes file handed to the egress daemon (docs/architecture.md §5). Written by the host (plan
 * pipeline), parsed by egress. It holds slot names only — never values, never token_ref names.
 * snake_case because this is the on-disk YAML shape.
 */
import type { AuthScheme, InboundDetector, OnMatch, OutboundDetector, PathMatchType } from '../manifest/types.js';

export interface RoutesFileMatch {
  paths?: Array<{ type: PathMatchType; value: string }>;
  methods?: string[];
  headers?: Array<{ name: string; type: 'exact' | 'regex'; value: string }>;
}

export interface RoutesFileRoute {
  host: string;
  port?: number;
  matches?: RoutesFileMatch[];
  auth?: { scheme: AuthScheme; token_env: string; header?: string };
  tls_passthrough?: boolean;
  allow_private_cidrs?: string[];
  git?: { fetch: boolean };
  dlp?: {
    outbound_detectors: OutboundDetector[] | false | 'all';
    inbound_detectors: InboundDetector[] | false | 'all';
    outbound_on_match: OnMatch;
  };
  origin?: 'provider' | 'manifest' | 'approved';
}

export interface RoutesFile {
  version: 1;
  generation: number;
  bottle: string;
  log: 0 | 1 | 2;
  routes: RoutesFileRoute[];
}
