/** Alert and incident exports: NDJSON, syslog (RFC 5424), webhooks. See ../README.md. */
export {
  alertToJson,
  incidentToJson,
  snapshotToNdjson,
  NdjsonFileWriter,
  type AlertJsonOptions,
  type Json,
} from './ndjson.ts';
export {
  alertToSyslog,
  incidentToSyslog,
  octetFrame,
  createSyslogSender,
  SYSLOG_SEVERITY,
  type SyslogHeader,
  type SyslogMessage,
  type SyslogSender,
  type SyslogSenderDeps,
} from './syslog.ts';
export {
  createWebhookSender,
  webhookSignature,
  WEBHOOK_HEADERS,
  type WebhookSender,
  type WebhookSenderDeps,
} from './webhook.ts';
