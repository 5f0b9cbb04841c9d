// The server's JSON API. Every error arrives as {"error": "one line"}; it is thrown as an Error
// carrying that line (and the HTTP status), never a stack trace from the server.

const HEADERS = { "X-Mixwise": "1" };

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function parse(res) {
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const msg = data && data.error ? data.error : `the server answered ${res.status}`;
    throw new ApiError(msg, res.status);
  }
  return data;
}

export async function get(path) {
  return parse(await fetch(path, { headers: HEADERS }));
}

export async function post(path, body) {
  return parse(
    await fetch(path, {
      method: "POST",
      headers: { ...HEADERS, "Content-Type": "application/json" },
      body: JSON.stringify(body ?? {}),
    }),
  );
}

export async function del(path) {
  return parse(await fetch(path, { method: "DELETE", headers: HEADERS }));
}

/** Upload files as multipart "files"; onProgress(bytesSent, bytesTotal). */
export function upload(path, files, onProgress, field = "files") {
  return new Promise((resolve, reject) => {
    const fd = new FormData();
    for (const f of files) fd.append(field, f, f.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("X-Mixwise", "1");
    xhr.upload.onprogress = (e) => onProgress && onProgress(e.loaded, e.total);
    xhr.onload = () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(data && data.error ? data.error : `upload failed (${xhr.status})`, xhr.status));
    };
    xhr.onerror = () => reject(new ApiError("upload failed: the server cannot be reached", 0));
    xhr.send(fd);
  });
}

/** Poll a job until it ends; onTick(job) on every answer. Resolves with the finished job. */
export async function waitJob(jobId, onTick, intervalMs = 250) {
  for (;;) {
    const job = await get(`/api/jobs/${jobId}`);
    onTick && onTick(job);
    if (job.state === "done") return job;
    if (job.state === "error") throw new ApiError(job.error || "the job failed", 500);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
