/** Host side of supervise (docs/supervise.md): relay, views, decisions and their apply. */
export { relayOnce, relayAndRemember, startRelay, spoolSlugs, heartbeatAgeSeconds, HEARTBEAT_OFFLINE_SECONDS, type RelayResult } from './relay.js';
export { decideAndApply, ApplyFailedError, type DecisionOutcome } from './decide.js';
export { summarize, routeChangeView, dockerfileView, sidecarDetail, routeWarnings, routesForDisplay } from './proposal-view.js';
export { editableText, parseEditedText } from './modify-text.js';
export { mergeRoutes, nextRoutesFile, liveSlots } from './route-merge.js';
export { validateProposedRoutes, validateDockerfile, ProposalInvalidError } from './route-proposal.js';
export { readLiveRoutes } from './apply.js';
export { readApprovedRoutes, withApprovedRoutes } from './approved-routes.js';
export { proposalDetail, type ProposalDetail } from './detail.js';
export { approveAndRemember, decideRemembered, matchingRule, planRemember, commitRemember, type RememberOutcome, type RememberPlan } from './remember.js';
export { covers, ruleFromPayload, describeRule, routeCovered, REMEMBER_SCOPES, type RememberScope } from './remember-match.js';
