/**
 * TLS probe, run after the service probes: a recognised service that carries credentials or control over plain
 * HTTP is a finding; on HTTPS, the certificate is judged — self-signed, expired or not yet valid — from the facts
 * the handshake gathered (dates against the run's clock, not the machine's guess at verification time).
 */
import { nothingFound, type Probe } from '../probe.ts';
import type { CheckOutcome } from '../probe-report.ts';

/** Services whose traffic needs TLS. The kubelet read-only port is plain by design and has its own check. */
const needsTls: ReadonlySet<string> = new Set(['docker-engine', 'registry', 'kube-apiserver', 'kubelet', 'etcd', 'portainer', 'rancher', 'harbor', 'shipyard', 'kubernetes-dashboard']);

export const tlsProbe: Probe = {
  id: 'tls',
  async run(context) {
    const services = [...context.services].filter((service) => needsTls.has(service));
    if (!context.tls) {
      if (services.length === 0 || (context.services.has('kubelet') && context.endpoint.port === 10255)) return nothingFound;
      return {
        services: [],
        outcomes: [{
          checkId: 'tls.plain-http',
          status: 'fail',
          evidence: [{ request: `TLS handshake with ${context.endpoint.name}, then GET ${context.http.origin}/`, answer: `plain HTTP answered for ${services.join(', ')}` }],
          detail: `${services.join(', ')} served over plain HTTP`,
        }],
      };
    }
    const facts = context.tls;
    const request = `TLS handshake with ${context.endpoint.name}`;
    const certificate = `subject ${facts.subject || '(none)'}; issuer ${facts.issuer || '(none)'}; valid ${facts.validFrom} to ${facts.validTo}${facts.verifyError ? `; verification: ${facts.verifyError}` : ''}`;
    const from = Date.parse(facts.validFrom);
    const to = Date.parse(facts.validTo);
    const isOutOfDate = Number.isFinite(to) && (to < context.now || from > context.now);
    const outcomes: CheckOutcome[] = [
      { checkId: 'tls.self-signed', status: facts.isSelfSigned ? 'fail' : 'pass', evidence: [{ request, answer: certificate }], detail: facts.isSelfSigned ? 'the certificate signs itself; clients must skip verification to connect' : `issued by ${facts.issuer}` },
      { checkId: 'tls.expired', status: isOutOfDate ? 'fail' : 'pass', evidence: [{ request, answer: certificate }], detail: isOutOfDate ? (to < context.now ? `expired on ${facts.validTo}` : `not valid before ${facts.validFrom}`) : `valid until ${facts.validTo}` },
    ];
    if (services.length > 0) outcomes.push({ checkId: 'tls.plain-http', status: 'pass', evidence: [{ request, answer: `${facts.protocol}` }], detail: `${services.join(', ')} served over TLS` });
    return { services: [], outcomes };
  },
};
