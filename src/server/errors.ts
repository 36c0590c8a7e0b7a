// API errors with OpenAI's body shape: {"error": {"message", "type", "param", "code"}}, and the
// HTTP status that goes with each kind (https://platform.openai.com/docs/guides/error-codes).
// Every failure the server reports — bad JSON, a wrong field, an unknown model, a full queue, a
// bug — leaves through ApiError, so clients (the official SDKs included) always parse it.

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = "invalid_request_error",
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  body(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400 naming the offending request field. */
export function badRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError(400, message, "invalid_request_error", param, code);
}

/** Any thrown value as an ApiError: ApiErrors pass through, anything else is a 500 (server bug) with its message. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new ApiError(500, `internal error: ${msg}`, "server_error", null, null);
}
