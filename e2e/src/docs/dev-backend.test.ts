/**
 * docs/quickstart.md › "ExternalDNS and DNS answers on the local backend", executed as written: the
 * guide's shell block runs in /bin/sh with `npx zonekeeper` being the bin on the workspace sources and
 * ZONEKEEPER_EXTERNAL_DNS the real binary. What it prints is what the guide promises (the address from
 * the dev DNS server, the ownership TXT, the delegated NS set, ExternalDNS's own log lines), and when it
 * ends no process of the backend is left — ExternalDNS included. A second journey rotates the key while
 * ExternalDNS runs and shows the process restarted with the new key and still publishing.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { externalDnsBinary, REPO_ROOT } from '../external-dns/binary.js';

const GUIDE = join(REPO_ROOT, 'docs', 'quickstart.md');
const BIN = join(REPO_ROOT, 'packages', 'zonekeeper', 'src', 'cli', 'bin.ts');
const MARKER = 'ZONEKEEPER_DEV_BACKEND';
const work = mkdtempSync(join(tmpdir(), 'zk-dev-e2e-'));

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Live processes whose environment carries the marker of a backend directory under `work`. */
function backendProcesses(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').includes(`${MARKER}=${work}`))
        pids.push(Number(entry));
    } catch {
      // Gone, or not ours.
    }
  }
  return pids;
}

afterAll(() => {
  for (const pid of backendProcesses()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
  rmSync(work, { recursive: true, force: true });
});

/** Runs `script` in /bin/sh as a user would: `npx zonekeeper` is the bin, the state under `home`. */
async function sh(script: string, home: string): Promise<Exit> {
  const prelude = `npx() { [ "$1" = zonekeeper ] || { echo "npx $1: not in this test" >&2; return 127; }; shift; node --import tsx --conditions=@zonekeeper/source ${JSON.stringify(BIN)} "$@"; }\n`;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(AWS_|VAULT_|KUBECONFIG$|ZONEKEEPER_)/.test(k)) env[k] = v;
  const child = spawn('/bin/sh', ['-ec', prelude + script], {
    cwd: join(REPO_ROOT, 'packages', 'zonekeeper'),
    env: {
      ...env,
      HOME: home,
      XDG_STATE_HOME: join(home, 'state'),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The guide's block under the heading, with the binary line pointed at the real ExternalDNS. */
async function guideBlock(binary: string): Promise<string> {
  const guide = await readFile(GUIDE, 'utf8');
  const section = guide.slice(guide.indexOf('### ExternalDNS and DNS answers on the local backend'));
  const block = /^```sh\n([\s\S]*?)^```$/m.exec(section)?.[1];
  if (block === undefined) throw new Error('the guide has no sh block under its local ExternalDNS heading');
  const line = /^export ZONEKEEPER_EXTERNAL_DNS=\S+/m;
  expect(block).toMatch(line);
  return block.replace(line, `export ZONEKEEPER_EXTERNAL_DNS=${JSON.stringify(binary)}`);
}

describe('the local backend with ExternalDNS (docs/quickstart.md)', { timeout: 240_000 }, () => {
  it('runs as written: dig answers what ExternalDNS published, its log shows why, and down leaves nothing', async () => {
    const binary = await externalDnsBinary();
    const home = join(work, 'guide');
    const run = await sh(await guideBlock(binary), home);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const lines = run.stdout.split('\n');
    // `until dig … | grep .` prints the address once it is there; the Service shows the same one.
    expect(lines).toContain('127.0.1.1');
    expect(run.stdout).toMatch(/^web\s+LoadBalancer\s+\S+\s+127\.0\.1\.1\s/m);
    expect(run.stdout).toContain(
      '"heritage=external-dns,external-dns/owner=dev-1,external-dns/resource=service/web/web"',
    );
    expect(lines.filter((l) => /^ns-\d+\.awsdns-\d+\.[a-z.]+\.$/.test(l)).length).toBeGreaterThanOrEqual(1);
    // `kubectl logs deployment/external-dns` read the Pod's log from the fake: ExternalDNS's own lines,
    // unprefixed (`dev logs` prefixes them with the Deployment).
    expect(run.stdout).toMatch(/^time="[^"]+" level=info msg=".*successfully updated/m);
    // Nothing of the backend runs any more, and its files (the mounted credentials) are gone.
    expect(backendProcesses()).toEqual([]);
    expect(existsSync(join(home, 'state', 'zonekeeper', 'dev', 'run'))).toBe(false);
  });

  it('a rotated key restarts ExternalDNS on the new key, which keeps publishing; a bad binary starts nothing', async () => {
    const binary = await externalDnsBinary();
    const home = join(work, 'rotate');
    const script = `
export ZONEKEEPER_EXTERNAL_DNS=${JSON.stringify(binary)}
eval "$(npx zonekeeper dev up)"
npx zonekeeper org ensure acme >/dev/null 2>&1
npx zonekeeper cluster attach acme dev-1 --external-dns-arg=--events >/dev/null 2>&1
kubectl --context dev-1 create namespace web >/dev/null
svc() { printf 'apiVersion: v1\\nkind: Service\\nmetadata: {name: %s, namespace: web, annotations: {external-dns.kubernetes.io/hostname: %s.acme.example.com}}\\nspec: {type: LoadBalancer, ports: [{port: 443}]}\\n' "$1" "$1" | kubectl --context dev-1 apply -f - >/dev/null; }
wait_for() { i=0; until dig @127.0.0.1 -p "$ZONEKEEPER_DEV_DNS_PORT" +short "$1" | grep .; do i=$((i+1)); [ $i -lt 90 ] || exit 9; sleep 1; done; }
mounted() { sed -n 's/^aws_access_key_id = //p' "$ZONEKEEPER_DEV_DIR"/run/dev-1.pods/*/etc/zonekeeper/aws/credentials; }
secret() { kubectl --context dev-1 -n external-dns get secret external-dns-aws-credentials -o jsonpath='{.data.credentials}' | base64 -d | sed -n 's/^aws_access_key_id = //p'; }
pods() { kubectl --context dev-1 -n external-dns get pods --no-headers -o custom-columns=NAME:.metadata.name,PHASE:.status.phase,READY:.status.containerStatuses[0].ready; }
svc one; wait_for one.acme.example.com
echo "before: mounted=$(mounted) secret=$(secret)"
echo "pods before: $(pods)"
npx zonekeeper credentials rotate acme >/dev/null 2>&1
svc two; wait_for two.acme.example.com
echo "after: mounted=$(mounted) secret=$(secret)"
echo "pods after: $(pods)"
kubectl -n external-dns logs deployment/external-dns | grep -c 'Desired change: CREATE two.acme.example.com A' | sed 's/^/two created: /'
npx zonekeeper dev logs dev-1 | grep 'external-dns:' || true
eval "$(npx zonekeeper dev down)"
`;
    const run = await sh(script, home);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('127.0.1.1');
    expect(run.stdout).toContain('127.0.1.2');
    // The process runs the key of the Secret, before and after; the rotation changed it.
    const keys = (when: string) => /mounted=(\S+) secret=(\S+)/.exec(run.stdout.split(`${when}: `)[1] ?? '');
    const before = keys('before');
    const after = keys('after');
    expect(before?.[1]).toMatch(/^[A-Z0-9]{16,}$/);
    expect(before?.[1]).toBe(before?.[2]);
    expect(after?.[1]).toBe(after?.[2]);
    expect(after?.[1]).not.toBe(before?.[1]);
    // One Pod per template, as a rollout makes: a new one after the rotation, Running and ready; the
    // guide's `kubectl -n external-dns logs deployment/external-dns` (current context) reads the new one.
    const pod = (when: string) =>
      new RegExp(`^pods ${when}: (external-dns-[a-z0-9]{10}-[a-z0-9]{5})\\s+Running\\s+true$`, 'm').exec(
        run.stdout,
      )?.[1];
    expect(pod('before'), run.stdout).toBeDefined();
    expect(pod('after')).toBeDefined();
    expect(pod('after')).not.toBe(pod('before'));
    expect(run.stdout).toContain('two created: 1');
    expect(await readFile(join(REPO_ROOT, 'docs', 'expose-a-service.md'), 'utf8')).toContain(
      '\nkubectl -n external-dns logs deployment/external-dns\n',
    );
    // Started, stopped for the new template (not a crash), started again.
    const started = run.stdout.match(/external-dns: external-dns\/external-dns started/g) ?? [];
    expect(started).toHaveLength(2);
    expect(run.stdout).not.toMatch(/exited \(code [1-9]/);
    expect(backendProcesses()).toEqual([]);

    const bad = await sh('npx zonekeeper dev up --external-dns /bin/true', join(work, 'bad'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/reports version "[^"\n]*", but zonekeeper renders ExternalDNS v0\.22\.0/);
    expect(existsSync(join(work, 'bad', 'state', 'zonekeeper', 'dev', 'dev.json'))).toBe(false);
    expect(backendProcesses()).toEqual([]);
  });

  it("docs/certificates.md's own check of a certificate, on the local backend", async () => {
    const guide = await readFile(join(REPO_ROOT, 'docs', 'certificates.md'), 'utf8');
    const section = guide.slice(guide.indexOf('## Checking a certificate yourself'));
    const block = /^```sh\n(kubectl -n web get secret[\s\S]*?)^```$/m.exec(section)?.[1];
    expect(block).toBeDefined();
    const attach = 'zonekeeper cluster attach acme dev-1 --cert web:web:www.acme.example.com';
    expect(section).toContain(attach);
    const run = await sh(
      `
pkg="$(pwd)"
eval "$(npx zonekeeper dev up)"
npx zonekeeper org ensure acme >/dev/null
kubectl create namespace web >/dev/null
npx ${attach} >/dev/null
cd "$HOME"
${block}
cd "$pkg"
eval "$(npx zonekeeper dev down)"
`,
      join(work, 'certificates'),
    );
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('DNS:www.acme.example.com');
    expect(run.stdout).toMatch(/TLS Web Server Authentication/);
    expect(run.stdout).toMatch(/^leaf\.pem: OK$/m);
    expect(backendProcesses()).toEqual([]);
  });

  it('docs/operations.md on the local backend: protecting a zone (aws CLI), then offboarding', async () => {
    const guide = await readFile(join(REPO_ROOT, 'docs', 'operations.md'), 'utf8');
    const protect = /^```sh\n(aws route53 change-tags-for-resource[\s\S]*?)^```$/m.exec(guide)?.[1];
    const offboard = /^```sh\n(zonekeeper cluster list --org acme[\s\S]*?)^```$/m.exec(guide)?.[1];
    expect(protect).toContain('Z0123456789ABCDEFGHIJ');
    expect(offboard).toContain('prod-1');
    // The guide's placeholders become the backend's names: beta's zone id, and the cluster dev-1. The
    // prompt of `org delete` needs a terminal: `script` gives it one, and the answer is typed in.
    const offboardHere = (offboard as string)
      .replaceAll('prod-1', 'dev-1')
      .split('\n')
      .map((line) =>
        /^zonekeeper org delete acme +#/.test(line)
          ? `printf 'acme\\n' | script -qec 'npx() { shift; node --import tsx --conditions=@zonekeeper/source ${BIN} "$@"; }; npx zonekeeper org delete acme' /dev/null | tr -d '\\r'`
          : line.replace(/^zonekeeper /, 'npx zonekeeper '),
      )
      .join('\n');
    const run = await sh(
      `
eval "$(npx zonekeeper dev up)"
for org in acme beta; do npx zonekeeper org ensure $org >/dev/null; done
npx zonekeeper cluster attach acme dev-1 >/dev/null
zone="$(npx zonekeeper org show beta -o json | jq -r .result.zone.id)"
${(protect as string).replaceAll('Z0123456789ABCDEFGHIJ', '"$zone"')}
npx zonekeeper gc plan --inventory "$ZONEKEEPER_DEV_DIR/inventory.json" | grep '^beta'
npx zonekeeper org delete beta --yes 2>&1 && echo 'beta deleted' || echo 'beta: refused'
${offboardHere}
npx zonekeeper org list -o json | jq -r '.result.organizations[].organization' | sed 's/^/left: /'
eval "$(npx zonekeeper dev down)"
`,
      join(work, 'operations'),
    );
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/^beta\.example\.com\s+beta\s+\S+\s+keep\s+PROTECTED/m);
    expect(run.stdout).toContain('beta: refused');
    expect(run.stdout).toMatch(/is protected \(zonekeeper:protected=true\)/);
    expect(run.stdout).toMatch(/^acme\s+dev-1\s+yes\s/m);
    expect(run.stdout).toMatch(/Type its name \(acme\) to confirm/);
    expect(run.stdout).toMatch(/^left: beta$/m);
    expect(run.stdout).not.toMatch(/^left: acme$/m);
    expect(backendProcesses()).toEqual([]);
  });

  it("the guides' vault lines: the Vault setup, then zonekeeper on the least-privilege token, then the GitOps recipe", async () => {
    const configuration = await readFile(join(REPO_ROOT, 'docs', 'configuration.md'), 'utf8');
    const externalDns = await readFile(join(REPO_ROOT, 'docs', 'externaldns.md'), 'utf8');
    const vaultSection = configuration.slice(configuration.indexOf('\n## Vault\n'));
    const setup = /^```sh\n(vault secrets enable[\s\S]*?)^```$/m.exec(vaultSection)?.[1];
    const hcl = /^```hcl\n([\s\S]*?)^```$/m.exec(vaultSection)?.[1];
    const gitops = /^```sh\n(vault kv get[\s\S]*?)^```$/m.exec(externalDns)?.[1];
    expect(setup).toBeDefined();
    expect(hcl).toBeDefined();
    expect(gitops).toBeDefined();
    // No Vault CLI on these machines: `vault` is the requests the Vault CLI (1.21, command/secrets_enable.go,
    // policy_write.go, token_create.go, kv_get.go + kv_helpers.go) sends for exactly the argument lists
    // the guides use, with curl; any other argument list fails. The rest of each block runs as written.
    const script = `
pkg="$(pwd)"
eval "$(npx zonekeeper dev up)"
req() { curl -sS -f -X "$1" -H "X-Vault-Token: $VAULT_TOKEN" -H 'Content-Type: application/json' "$VAULT_ADDR/v1/$2" \${3:+--data "$3"}; }
vault() {
  case "$*" in
    'secrets disable secret') req DELETE sys/mounts/secret/ ;;
    'secrets enable -path=secret kv-v2') req POST sys/mounts/secret/ '{"type":"kv-v2","description":"","config":{"default_lease_ttl":"0s","max_lease_ttl":"0s","force_no_cache":false},"local":false,"seal_wrap":false,"external_entropy_access":false,"options":null}' && echo 'Success! Enabled the kv-v2 secrets engine at: secret/' ;;
    'policy write zonekeeper zonekeeper.hcl') req PUT sys/policies/acl/zonekeeper "$(jq -Rs '{policy: .}' zonekeeper.hcl)" && echo 'Success! Uploaded policy: zonekeeper' ;;
    'token create -policy=zonekeeper') req POST auth/token/create '{"policies":["zonekeeper"],"display_name":"","num_uses":0,"renewable":true,"type":"service","entity_alias":""}' | jq -r '"token \\(.auth.client_token)", "token_policies \\(.auth.token_policies | tostring)"' ;;
    'kv get -mount=secret -format=json '*)
      req GET sys/internal/ui/mounts/secret | jq -e '.data.options.version == "2"' >/dev/null || { echo 'preflight: not KV v2' >&2; return 2; }
      req GET "secret/data/$5" ;;
    *) echo "vault $*: not a line of the guides" >&2; return 127 ;;
  esac
}
cd "$HOME"
cat > zonekeeper.hcl <<'HCL'
${hcl}HCL
vault secrets disable secret   # a fresh Vault: the dev backend's comes with secret/ mounted
${setup}
export VAULT_TOKEN="$(vault token create -policy=zonekeeper | sed -n 's/^token //p')"
echo "least-privilege token: \${VAULT_TOKEN%%.*}"
vault policy write zonekeeper zonekeeper.hcl >/dev/null 2>&1 && echo 'policy write: allowed' || echo 'policy write: refused'
(cd "$pkg" && npx zonekeeper org ensure acme >/dev/null && npx zonekeeper cluster attach acme dev-1 >/dev/null)
applied="$(kubectl -n external-dns get secret external-dns-aws-credentials -o jsonpath='{.data.credentials}')"
kubectl -n external-dns delete secret external-dns-aws-credentials >/dev/null
${gitops}
recreated="$(kubectl -n external-dns get secret external-dns-aws-credentials -o jsonpath='{.data.credentials}')"
[ -n "$applied" ] && [ "$applied" = "$recreated" ] && echo 'recipe: the same credentials file zonekeeper applied'
kubectl -n external-dns get secret external-dns-aws-credentials -o jsonpath='{.metadata.labels.zonekeeper\\.io/managed-by}{"\\n"}'
[ ! -e credentials ] && echo 'credentials file removed'
cd "$pkg"
eval "$(npx zonekeeper dev down)"
`;
    const run = await sh(script, join(work, 'vault'));
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('Success! Enabled the kv-v2 secrets engine at: secret/');
    expect(run.stdout).toContain('Success! Uploaded policy: zonekeeper');
    // zonekeeper ran on a token holding only the guide's policy (and default), which cannot edit policies.
    expect(run.stdout).toMatch(/^least-privilege token: hvs$/m);
    expect(run.stdout).toContain('policy write: refused');
    expect(run.stdout).toContain('recipe: the same credentials file zonekeeper applied');
    expect(run.stdout).toMatch(/^zonekeeper$/m);
    expect(run.stdout).toContain('credentials file removed');
    expect(backendProcesses()).toEqual([]);
  });
});
