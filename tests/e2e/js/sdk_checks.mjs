// The official Conductor JavaScript SDK, unmodified, against a Podium server.
//
// Run by tests/e2e/test_conductor_sdk_js.py with PODIUM_URL set to the server's address. Only
// the SDK's public API is used: OrkesClients for the metadata, workflow and task clients,
// TaskManager for the workers (definitions.mjs holds those and the definitions). Every check
// prints one JSON line {"check": name, "ok": bool, "detail": ...}; a check that throws is
// reported as failed with the error, and the rest still run.

import http from "node:http";

import {
  ConductorWorkflow,
  OrkesClients,
  TaskManager,
  TaskResultStatusEnum,
  simpleTask,
} from "@io-orkes/conductor-javascript";

import { taskDefs, undomainedWorkers, workers, workflowDefs } from "./definitions.mjs";

const SERVER = process.env.PODIUM_URL;
if (!SERVER) {
  throw new Error("PODIUM_URL must name the Podium server, e.g. http://127.0.0.1:8080");
}
const TERMINAL = new Set(["COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"]);
// Several runs of these checks may share a server: the correlation id is this run's own.
const CORRELATION = `js-order-${process.pid}-${Date.now()}`;

// The SDK's own log lines go to stderr: stdout holds the checks' JSON lines only.
const logger = {
  info: (...args) => console.error("INFO", ...args),
  warn: (...args) => console.error("WARN", ...args),
  error: (...args) => console.error("ERROR", ...args),
  debug: () => {},
};

function report(check, ok, detail) {
  process.stdout.write(`${JSON.stringify({ check, ok: Boolean(ok), detail: detail ?? null })}\n`);
}

async function check(name, body) {
  try {
    const [ok, detail] = await body();
    report(name, ok, detail);
  } catch (error) {
    report(name, false, { error: String(error?.stack ?? error) });
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- a tiny HTTP service for the HTTP tasks ---------------------------------------------

function startService() {
  const service = http.createServer((request, response) => {
    const body = JSON.stringify({ path: request.url, method: request.method });
    response.writeHead(200, { "Content-Type": "application/json" });
    response.end(body);
  });
  return new Promise((resolve) => {
    service.listen(0, "127.0.0.1", () => resolve(service));
  });
}

// ---- helpers --------------------------------------------------------------------------------

async function waitFor(executor, workflowId, done, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let run;
  while (Date.now() < deadline) {
    run = await executor.getWorkflow(workflowId, true);
    if (done(run)) {
      return run;
    }
    await sleep(50);
  }
  throw new Error(`run ${workflowId} did not get there: ${JSON.stringify(run?.status)}`);
}

const ended = (run) => TERMINAL.has(run.status);
// The latest attempt of the task ``ref`` (a retry adds attempts after the first).
const taskOf = (run, ref) => run.tasks.findLast((task) => task.referenceTaskName === ref);
const waiting = (ref) => (run) => taskOf(run, ref)?.status === "IN_PROGRESS";

// ---- the checks -------------------------------------------------------------------------------

async function main() {
  const service = await startService();
  const serviceUrl = `http://127.0.0.1:${service.address().port}`;
  const clients = await OrkesClients.from({ serverUrl: `${SERVER}/api`, useEnvVars: false, logger });
  const client = clients.getClient();
  const metadata = clients.getMetadataClient();
  const executor = clients.getWorkflowClient();
  const tasks = clients.getTaskClient();
  const options = { logger, options: { pollInterval: 50, concurrency: 1 } };
  const managers = [
    new TaskManager(client, workers, options),
    new TaskManager(client, undomainedWorkers, options),
  ];

  try {
    await check("register_definitions", async () => {
      await metadata.registerTasks(taskDefs());
      for (const workflow of workflowDefs(serviceUrl)) {
        await metadata.registerWorkflowDef(workflow, true);
      }
      const greet = await metadata.getTask("js_greet");
      const flow = await metadata.getWorkflowDef("js_greeting", 1);
      return [greet.name === "js_greet" && flow.tasks.length === 1, { task: greet.name }];
    });

    for (const manager of managers) {
      manager.startPolling();
    }

    let greetingId;
    await check("worker_completes_run", async () => {
      greetingId = await executor.startWorkflow({
        name: "js_greeting",
        version: 1,
        input: { name: "ada" },
        correlationId: CORRELATION,
      });
      const run = await waitFor(executor, greetingId, ended);
      return [
        run.status === "COMPLETED" && run.output?.greeting === "hello ada",
        { status: run.status, output: run.output },
      ];
    });

    await check("read_run_and_tasks", async () => {
      const run = await executor.getWorkflow(greetingId, true);
      const greet = taskOf(run, "greet");
      const task = await executor.getTask(greet.taskId);
      const same = await tasks.getTask(greet.taskId);
      const status = await executor.getWorkflowStatus(greetingId, true, false);
      return [
        run.correlationId === CORRELATION &&
          task.outputData?.greeting === "hello ada" &&
          same.taskId === greet.taskId &&
          task.status === "COMPLETED" &&
          status.status === "COMPLETED",
        { task: task.status, status: status.status },
      ];
    });

    await check("search_workflows", async () => {
      const found = await executor.search(
        0,
        10,
        "workflowType = 'js_greeting' AND status = 'COMPLETED'",
        "*",
      );
      const byCorrelation = await executor.search(0, 10, `correlationId = '${CORRELATION}'`, "*");
      const ids = (found.results ?? []).map((hit) => hit.workflowId);
      const correlated = (byCorrelation.results ?? []).map((hit) => hit.workflowId);
      return [
        ids.includes(greetingId) && correlated.length === 1 && correlated[0] === greetingId,
        { ids, correlated },
      ];
    });

    await check("search_tasks", async () => {
      const found = await tasks.search(0, 10, undefined, "*", "taskType = 'js_greet'");
      const ids = (found.results ?? []).map((hit) => hit.workflowId);
      return [ids.includes(greetingId), { ids }];
    });

    await check("correlated_runs", async () => {
      const found = await executor.getByCorrelationIds(
        { workflowNames: ["js_greeting"], correlationIds: [CORRELATION] },
        true,
        false,
      );
      const ids = (found[CORRELATION] ?? []).map((run) => run.workflowId);
      return [ids.length === 1 && ids[0] === greetingId, { ids }];
    });

    await check("domain_worker", async () => {
      const id = await executor.startWorkflow({
        name: "js_routed_flow",
        version: 1,
        input: {},
        taskToDomain: { js_routed: "blue" },
      });
      const run = await waitFor(executor, id, ended);
      const routed = taskOf(run, "routed");
      return [
        run.status === "COMPLETED" && routed.domain === "blue" && routed.outputData?.by === "blue",
        { status: run.status, domain: routed.domain, output: routed.outputData },
      ];
    });

    await check("pause_resume", async () => {
      const id = await executor.startWorkflow({ name: "js_waiting", version: 1, input: {} });
      await waitFor(executor, id, waiting("wait"));
      await executor.pause(id);
      const paused = (await executor.getWorkflow(id, false)).status;
      await executor.resume(id);
      const resumed = (await executor.getWorkflow(id, false)).status;
      await executor.terminate(id, "done with it");
      return [paused === "PAUSED" && resumed === "RUNNING", { paused, resumed }];
    });

    await check("update_task_by_ref_name", async () => {
      const id = await executor.startWorkflow({ name: "js_waiting", version: 1, input: {} });
      await waitFor(executor, id, waiting("wait"));
      await executor.updateTaskByRefName("wait", id, "COMPLETED", { who: "grace" });
      const run = await waitFor(executor, id, ended);
      return [
        run.status === "COMPLETED" && taskOf(run, "after").outputData?.greeting === "hello grace",
        { status: run.status },
      ];
    });

    await check("task_client_update_by_ref_name", async () => {
      const id = await executor.startWorkflow({ name: "js_waiting", version: 1, input: {} });
      await waitFor(executor, id, waiting("wait"));
      await tasks.updateTaskResult(id, "wait", "COMPLETED", { who: "linus" });
      const run = await waitFor(executor, id, ended);
      // This client sends {outputData: ...} as the body, and Conductor takes the body as the
      // task's output, so the output is that object as sent.
      const output = taskOf(run, "wait").outputData;
      return [
        run.status === "COMPLETED" && output?.outputData?.who === "linus",
        { status: run.status, wait: output },
      ];
    });

    await check("signal", async () => {
      const id = await executor.startWorkflow({ name: "js_waiting", version: 1, input: {} });
      await waitFor(executor, id, waiting("wait"));
      const answer = await executor.signal(id, TaskResultStatusEnum.COMPLETED, { who: "alan" });
      const run = await waitFor(executor, id, ended);
      return [
        // The body the SDK sends is {taskOutput: ...}; Conductor keeps it as the output.
        run.status === "COMPLETED" &&
          taskOf(run, "wait").outputData?.taskOutput?.who === "alan" &&
          answer.getTargetWorkflowId() === id,
        { status: run.status, wait: taskOf(run, "wait").outputData, target: answer.getTargetWorkflowId() },
      ];
    });

    await check("terminate", async () => {
      const id = await executor.startWorkflow({ name: "js_waiting", version: 1, input: {} });
      await waitFor(executor, id, waiting("wait"));
      await executor.terminate(id, "cancelled by the check");
      const run = await executor.getWorkflow(id, true);
      return [
        run.status === "TERMINATED" && run.reasonForIncompletion === "cancelled by the check",
        { status: run.status, reason: run.reasonForIncompletion },
      ];
    });

    await check("retry", async () => {
      const id = await executor.startWorkflow({ name: "js_flaky_flow", version: 1, input: {} });
      const failed = await waitFor(executor, id, ended);
      await executor.retry(id, false);
      const run = await waitFor(executor, id, ended);
      return [
        failed.status === "FAILED" &&
          run.status === "COMPLETED" &&
          taskOf(run, "flaky").outputData?.attempts === 2,
        { first: failed.status, then: run.status, output: taskOf(run, "flaky").outputData },
      ];
    });

    await check("rerun", async () => {
      const first = await executor.getWorkflow(greetingId, true);
      const again = await executor.reRun(greetingId, {
        reRunFromTaskId: taskOf(first, "greet").taskId,
        workflowInput: { name: "barbara" },
      });
      const run = await waitFor(executor, greetingId, (r) => ended(r) && r.input?.name === "barbara");
      return [
        again === greetingId && run.status === "COMPLETED" && run.output?.greeting === "hello barbara",
        { status: run.status, output: run.output },
      ];
    });

    await check("restart", async () => {
      await executor.restart(greetingId, false);
      const run = await waitFor(
        executor,
        greetingId,
        (r) => ended(r) && taskOf(r, "greet")?.status === "COMPLETED",
      );
      return [run.status === "COMPLETED", { status: run.status }];
    });

    await check("http_flat_input", async () => {
      const id = await executor.startWorkflow({ name: "js_http_flat", version: 1, input: { id: 7 } });
      const run = await waitFor(executor, id, ended);
      const response = taskOf(run, "call").outputData?.response;
      return [
        run.status === "COMPLETED" &&
          response?.statusCode === 200 &&
          response?.body?.path === "/flat?id=7",
        { status: run.status, response },
      ];
    });

    await check("dynamic_fork_of_http", async () => {
      const branches = ["a", "b", "c"].map((name) => ({
        name: `get_${name}`,
        taskReferenceName: `get_${name}`,
        type: "HTTP",
      }));
      const inputs = Object.fromEntries(
        ["a", "b", "c"].map((name) => [
          `get_${name}`,
          { http_request: { uri: `${serviceUrl}/branch/${name}`, method: "GET" } },
        ]),
      );
      const id = await executor.startWorkflow({
        name: "js_http_fan",
        version: 1,
        input: { branches, inputs },
      });
      const run = await waitFor(executor, id, ended);
      const joined = taskOf(run, "fan_join")?.outputData ?? {};
      const paths = ["a", "b", "c"].map((name) => joined[`get_${name}`]?.response?.body?.path);
      return [
        run.status === "COMPLETED" &&
          paths.join(",") === "/branch/a,/branch/b,/branch/c",
        { status: run.status, paths },
      ];
    });

    await check("task_id_and_task_time_references", async () => {
      const id = await executor.startWorkflow({ name: "js_references", version: 1, input: {} });
      const run = await waitFor(executor, id, ended);
      const t1 = taskOf(run, "t1");
      const t2 = taskOf(run, "t2");
      return [
        run.status === "COMPLETED" &&
          t1.inputData?.me === t1.taskId &&
          t1.outputData?.input?.me === t1.taskId &&
          t2.inputData?.t1Id === t1.taskId &&
          typeof t2.inputData?.t1Started === "number" &&
          t2.inputData.t1Started === t1.startTime &&
          t1.startTime > 0,
        { me: t1.inputData?.me, taskId: t1.taskId, t1Started: t2.inputData?.t1Started, startTime: t1.startTime },
      ];
    });

    await check("lambda", async () => {
      const id = await executor.startWorkflow({ name: "js_lambda", version: 1, input: { a: 2, b: 3 } });
      const run = await waitFor(executor, id, ended);
      const result = taskOf(run, "sum").outputData?.result;
      return [run.status === "COMPLETED" && result?.sum === 5, { status: run.status, result }];
    });

    await check("workflow_builder_execute", async () => {
      const workflow = new ConductorWorkflow(executor, "js_built")
        .ownerEmail("sdk-js@example.com")
        .add(simpleTask("greet", "js_greet", { name: "${workflow.input.name}" }))
        .outputParameters({ greeting: "${greet.output.greeting}" });
      await workflow.register(true);
      const run = await workflow.execute({ name: "edsger" });
      const started = await workflow.startWorkflow({ name: "donald" }, CORRELATION);
      const later = await waitFor(executor, started, ended);
      return [
        run.status === "COMPLETED" &&
          run.output?.greeting === "hello edsger" &&
          later.output?.greeting === "hello donald",
        { sync: run.status, output: run.output, started: later.status },
      ];
    });

    await check("start_by_name", async () => {
      const id = await executor.startWorkflowByName("js_greeting", { name: "ken" }, 1, CORRELATION);
      const run = await waitFor(executor, id, ended);
      return [
        run.correlationId === CORRELATION && run.output?.greeting === "hello ken",
        { status: run.status, correlationId: run.correlationId },
      ];
    });

    await check("update_task_sync", async () => {
      const id = await executor.startWorkflow({ name: "js_waiting", version: 1, input: {} });
      await waitFor(executor, id, waiting("wait"));
      // The TaskClient's form sends the output as the body (the WorkflowExecutor's wraps it).
      const answer = await tasks.updateTaskSync(id, "wait", "COMPLETED", { who: "dennis" });
      const run = await waitFor(executor, id, ended);
      return [
        answer.workflowId === id &&
          run.status === "COMPLETED" &&
          taskOf(run, "after").outputData?.greeting === "hello dennis",
        { answered: answer.workflowId, status: run.status },
      ];
    });

    await check("update_variables", async () => {
      const id = await executor.startWorkflow({ name: "js_waiting", version: 1, input: {} });
      await waitFor(executor, id, waiting("wait"));
      const updated = await executor.updateVariables(id, { stage: "review" });
      const run = await executor.getWorkflow(id, false);
      await executor.terminate(id, "done with it");
      return [
        updated.variables?.stage === "review" && run.variables?.stage === "review",
        { variables: run.variables },
      ];
    });

    await check("skip_task", async () => {
      const id = await executor.startWorkflow({ name: "js_waiting", version: 1, input: {} });
      await waitFor(executor, id, waiting("wait"));
      await executor.skipTasksFromWorkflow(id, "wait", { taskOutput: { who: "skipped" } });
      const run = await waitFor(executor, id, ended);
      return [
        run.status === "COMPLETED" && taskOf(run, "wait").status === "SKIPPED",
        { status: run.status, wait: taskOf(run, "wait").status },
      ];
    });

    await check("in_progress_worker_and_task_logs", async () => {
      const id = await executor.startWorkflow({ name: "js_slow_flow", version: 1, input: {} });
      const run = await waitFor(executor, id, ended);
      const slow = taskOf(run, "slow");
      const logs = await tasks.getTaskLogs(slow.taskId);
      const lines = logs.map((entry) => entry.log);
      return [
        run.status === "COMPLETED" && slow.outputData?.polls === 2 && lines.includes("poll 1"),
        { status: run.status, output: slow.outputData, logs: lines },
      ];
    });

    await check("non_retryable_failure", async () => {
      const id = await executor.startWorkflow({ name: "js_refuse_flow", version: 1, input: {} });
      const run = await waitFor(executor, id, ended);
      const attempts = run.tasks.filter((task) => task.referenceTaskName === "refuse");
      return [
        run.status === "FAILED" &&
          attempts.length === 1 &&
          attempts[0].status === "FAILED_WITH_TERMINAL_ERROR",
        { status: run.status, attempts: attempts.map((task) => task.status) },
      ];
    });

    await check("exclusive_join", async () => {
      const outcomes = {};
      for (const path of ["left", "right"]) {
        const id = await executor.startWorkflow({ name: "js_exclusive", version: 1, input: { path } });
        const run = await waitFor(executor, id, ended);
        outcomes[path] = { status: run.status, output: taskOf(run, "ejoin")?.outputData };
      }
      return [
        outcomes.left.status === "COMPLETED" &&
          outcomes.left.output?.result === "went left" &&
          outcomes.right.status === "COMPLETED" &&
          outcomes.right.output?.result === "went right",
        outcomes,
      ];
    });
  } finally {
    await Promise.all(managers.map((manager) => manager.stopPolling()));
    service.close();
  }
}

await main();
