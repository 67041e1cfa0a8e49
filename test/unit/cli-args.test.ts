import { expect } from 'chai';
import {
  parseFetchCheckpointsArgs,
  parseNoArgs,
  parseRetentionArgs,
  parsePolicyArgs,
  parseSendRecordingArgs,
  parseTokenArgs,
  parseVerifyAuditExportArgs,
  SEND_RECORDING_HELP,
  TOKEN_HELP,
  UsageError,
  type SendRecordingArgs,
} from '../../scripts/cli-args.js';

const sendArgs = (argv: string[]) => parseSendRecordingArgs(argv) as SendRecordingArgs;

describe('CLI arguments', () => {
  describe('send-recording', () => {
    it('takes --opt-out before or after the file', () => {
      for (const argv of [['--opt-out', 'call.wav'], ['call.wav', '--opt-out']]) {
        expect(sendArgs(argv)).to.include({ file: 'call.wav', optOut: true });
      }
    });

    it('takes --withheld before or after the file and sends no caller', () => {
      for (const argv of [['--withheld', 'call.wav'], ['call.wav', '--withheld']]) {
        expect(sendArgs(argv)).to.include({ file: 'call.wav', caller: null, optOut: false });
      }
    });

    it('reads every option, in either form', () => {
      const a = sendArgs([
        '--url=http://127.0.0.1:9000', '--secret', 'whsec_abc', '--call-id', 'c-1', '--caller', '070-123 45 67',
        '--started-at', '2026-11-01T10:00:00Z', '--duration', '42', '--queue', 'q', '--agent', 'a-7', 'call.wav',
      ]);
      expect(a).to.deep.equal({
        file: 'call.wav', url: 'http://127.0.0.1:9000', secret: 'whsec_abc', callId: 'c-1', caller: '070-123 45 67',
        startedAt: new Date('2026-11-01T10:00:00Z'), durationS: 42, queue: 'q', agentId: 'a-7', optOut: false,
      });
    });

    it('defaults to a Swedish number, three minutes and the contact centre queue', () => {
      expect(sendArgs(['call.wav'])).to.include({ caller: '+46 46 35 50 00', durationS: 180, queue: 'medborgarcenter', agentId: null, optOut: false });
    });

    it('refuses what it cannot send, naming the argument', () => {
      const cases: [string[], RegExp][] = [
        [[], /missing required argument 'file'/],
        [['a.wav', 'b.wav'], /too many arguments\. Expected 1 argument but got 2/],
        [['--caller', '070', '--withheld', 'a.wav'], /option '--caller <number>' cannot be used with option '--withheld'/],
        [['--duration', 'long', 'a.wav'], /option '--duration <seconds>' argument 'long' is invalid\. must be a positive number/],
        [['--started-at', 'yesterday', 'a.wav'], /option '--started-at <iso>' argument 'yesterday' is invalid\. must be an ISO 8601 time/],
        [['--url', 'localhost', 'a.wav'], /option '--url <url>' argument 'localhost' is invalid\. must be a URL/],
        [['--force', 'a.wav'], /unknown option '--force'/],
        [['a.wav', '--caller'], /option '--caller <number>' argument missing/],
      ];
      for (const [argv, message] of cases) {
        expect(() => parseSendRecordingArgs(argv), argv.join(' ')).to.throw(UsageError, message);
      }
    });

    it('answers --help, and its help names every option', () => {
      expect(parseSendRecordingArgs(['--help'])).to.equal('help');
      expect(parseSendRecordingArgs(['-h', 'a.wav'])).to.equal('help');
      for (const option of ['--url', '--secret', '--call-id', '--caller', '--withheld', '--started-at', '--duration', '--queue', '--agent', '--opt-out', '--help']) {
        expect(SEND_RECORDING_HELP).to.include(option);
      }
    });
  });

  describe('token', () => {
    it('parses create, list and revoke', () => {
      expect(parseTokenArgs(['create', '--name', 'Kim', '--role', 'trainer'])).to.deep.equal({ command: 'create', role: 'trainer', name: 'Kim' });
      expect(parseTokenArgs(['--role=admin', 'create', '--name=Kim'])).to.deep.equal({ command: 'create', role: 'admin', name: 'Kim' });
      expect(parseTokenArgs(['list'])).to.deep.equal({ command: 'list' });
      expect(parseTokenArgs(['revoke', 'tok_0123456789ab'])).to.deep.equal({ command: 'revoke', id: 'tok_0123456789ab' });
      expect(parseTokenArgs(['--help'])).to.equal('help');
      expect(TOKEN_HELP).to.include('--role').and.include('--name').and.include('revoke <token id>');
    });

    it('refuses incomplete or unknown commands', () => {
      const cases: [string[], RegExp][] = [
        [[], /a command is needed/],
        [['remove'], /unknown command 'remove'/],
        [['create', '--role', 'admin'], /create needs --name/],
        [['create', '--name', 'Kim'], /create needs --role/],
        [['revoke'], /missing required argument 'token id'/],
        [['list', 'all'], /too many arguments for 'list'\. Expected 0 arguments but got 1: all/],
        [['list', '--role', 'admin'], /--role and --name belong to create/],
        [['list', '--verbose'], /unknown option '--verbose'/],
      ];
      for (const [argv, message] of cases) {
        expect(() => parseTokenArgs(argv), argv.join(' ')).to.throw(UsageError, message);
      }
    });
  });

  describe('the other CLIs', () => {
    it('retention takes --dry-run and nothing else', () => {
      expect(parseRetentionArgs([])).to.deep.equal({ dryRun: false });
      expect(parseRetentionArgs(['--dry-run'])).to.deep.equal({ dryRun: true });
      expect(parseRetentionArgs(['--help'])).to.equal('help');
      expect(() => parseRetentionArgs(['--force'])).to.throw(UsageError, /unknown option '--force'/);
      expect(() => parseRetentionArgs(['now'])).to.throw(UsageError, /too many arguments\. Expected 0 arguments but got 1: now/);
    });

    it('verify-audit-export needs the export and the key, and takes several checkpoint paths', () => {
      expect(parseVerifyAuditExportArgs(['--export', 'a.ndjson', '--public-key', 'k.pem', '--checkpoints', 'd1', '--checkpoints', 'c.json'])).to.deep.equal({
        exportFile: 'a.ndjson',
        publicKeys: ['k.pem'],
        checkpoints: ['d1', 'c.json'],
      });
      expect(() => parseVerifyAuditExportArgs(['--public-key', 'k.pem'])).to.throw(UsageError, /required option '--export <file>' not specified/);
      expect(() => parseVerifyAuditExportArgs(['--export', 'a.ndjson'])).to.throw(UsageError, /required option '--public-key <file>' not specified/);
      expect(parseVerifyAuditExportArgs(['--export', 'a.ndjson', '--public-key', 'old.json', '--public-key', 'new.pem'])).to.deep.include({ publicKeys: ['old.json', 'new.pem'] });
    });

    it('audit:fetch-checkpoints needs --into and --token-file, and a URL that parses', () => {
      expect(parseFetchCheckpointsArgs(['--into', 'mine', '--token-file', 't'])).to.deep.equal({ into: 'mine', tokenFile: 't', url: 'http://localhost:8080' });
      expect(parseFetchCheckpointsArgs(['--into', 'mine', '--token-file', 't', '--url', 'https://gallra.example'])).to.include({ url: 'https://gallra.example' });
      expect(() => parseFetchCheckpointsArgs(['--token-file', 't'])).to.throw(UsageError, /required option '--into <dir>' not specified/);
      expect(() => parseFetchCheckpointsArgs(['--into', 'mine'])).to.throw(UsageError, /required option '--token-file <file>' not specified/);
      expect(() => parseFetchCheckpointsArgs(['--into', 'mine', '--token-file', 't', '--url', 'not a url'])).to.throw(UsageError, /option '--url <url>' argument 'not a url' is invalid\. must be a URL/);
    });

    it('migrate, audit:verify and storage:lifecycle take only --help', () => {
      expect(parseNoArgs([])).to.deep.equal({});
      expect(parseNoArgs(['-h'])).to.equal('help');
      expect(() => parseNoArgs(['--all'])).to.throw(UsageError, /unknown option '--all'/);
    });
  });
  describe('policy', () => {
    it('takes show, or set with one file', () => {
      expect(parsePolicyArgs(['show'])).to.deep.equal({ command: 'show' });
      expect(parsePolicyArgs(['set', 'rules.yaml'])).to.deep.equal({ command: 'set', file: 'rules.yaml' });
      expect(parsePolicyArgs(['--help'])).to.equal('help');
      expect(() => parsePolicyArgs([])).to.throw(UsageError, /a command is needed: show or set FILE/);
      expect(() => parsePolicyArgs(['set'])).to.throw(UsageError, /missing required argument 'file'/);
    });
  });
});
