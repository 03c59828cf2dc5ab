import { request } from 'node:https';
import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { isProcessRunning } from '../moto/index.js';
import { kubeApiServerBuildHint, startKubeApiServer } from './index.js';

function get(url: string, ca: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startKubeApiServer', () => {
  it('starts a real kube-apiserver 1.32 on 127.0.0.1 that checks its token, and stops it', async () => {
    const server = await startKubeApiServer();
    try {
      expect(server.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const version = await get(`${server.endpoint}/version`, server.ca, server.token);
      expect(JSON.parse(version.body)).toMatchObject({ major: '1', minor: '32', gitVersion: 'v1.32.13' });
      expect((await get(`${server.endpoint}/api/v1/namespaces`, server.ca, server.token)).status).toBe(200);
      expect((await get(`${server.endpoint}/api/v1/namespaces`, server.ca, 'wrong')).status).toBe(401);
      expect(server.kubeconfig()).toContain(server.endpoint);
    } finally {
      await server.stop();
    }
    expect(isProcessRunning(server.pid)).toBe(false);
  }, 120_000);

  it('fails with NOT_FOUND naming the build command when the binary is missing', async () => {
    const e = await startKubeApiServer({ binary: '/nonexistent/kube-apiserver' }).catch((x) => x);
    expect(hasErrorCode(e, 'NOT_FOUND')).toBe(true);
    expect(e.message).toContain(kubeApiServerBuildHint);
  });
});
