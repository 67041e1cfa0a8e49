/** A named readiness check for /readyz; capabilities add their own (retention adds the overdue count). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ok: boolean; details?: Record<string, unknown> }>;
}
