// The task types, workers and workflow definitions sdk_checks.mjs runs, written with the
// Conductor JavaScript SDK's builders where it has them and as plain WorkflowDef JSON where
// it has none (LAMBDA, EXCLUSIVE_JOIN, the flat HTTP form, a dynamic fork's parameters).

import {
  NonRetryableException,
  getTaskContext,
  inlineTask,
  simpleTask,
  switchTask,
} from "@io-orkes/conductor-javascript";

// ---- workers ------------------------------------------------------------------------------

const flakyAttempts = new Map(); // workflow id -> attempts seen, to fail each run's first

export const workers = [
  {
    taskDefName: "js_greet",
    pollInterval: 50,
    execute: async (task) => ({
      status: "COMPLETED",
      outputData: { greeting: `hello ${task.inputData?.name}` },
    }),
  },
  {
    taskDefName: "js_echo",
    pollInterval: 50,
    execute: async (task) => ({
      status: "COMPLETED",
      outputData: { input: task.inputData, taskId: task.taskId, startTime: task.startTime },
    }),
  },
  {
    taskDefName: "js_flaky",
    pollInterval: 50,
    execute: async (task) => {
      const seen = (flakyAttempts.get(task.workflowInstanceId) ?? 0) + 1;
      flakyAttempts.set(task.workflowInstanceId, seen);
      if (seen === 1) {
        return { status: "FAILED", reasonForIncompletion: "first attempt fails", outputData: {} };
      }
      return { status: "COMPLETED", outputData: { attempts: seen } };
    },
  },
  {
    // Stays IN_PROGRESS for a second, then completes: the SDK's long-running task form.
    taskDefName: "js_slow",
    pollInterval: 50,
    execute: async (task) => {
      getTaskContext()?.addLog(`poll ${task.pollCount}`);
      if ((task.pollCount ?? 0) < 2) {
        return { status: "IN_PROGRESS", callbackAfterSeconds: 1 };
      }
      return { status: "COMPLETED", outputData: { polls: task.pollCount } };
    },
  },
  {
    taskDefName: "js_refuse",
    pollInterval: 50,
    execute: async () => {
      throw new NonRetryableException("no such order");
    },
  },
  {
    taskDefName: "js_routed",
    domain: "blue",
    pollInterval: 50,
    execute: async () => ({ status: "COMPLETED", outputData: { by: "blue" } }),
  },
];

// The same task type without a domain, in a TaskManager of its own (one manager runs one
// worker per type): a run started with taskToDomain {js_routed: "blue"} must reach only the
// "blue" worker above.
export const undomainedWorkers = [
  {
    taskDefName: "js_routed",
    pollInterval: 50,
    execute: async () => ({ status: "COMPLETED", outputData: { by: "no-domain" } }),
  },
];

// ---- definitions ----------------------------------------------------------------------------

const TASK_NAMES = ["js_greet", "js_echo", "js_flaky", "js_routed", "js_slow", "js_refuse"];

export function taskDefs() {
  return TASK_NAMES.map((name) => ({
    name,
    // js_refuse could be retried: a terminal error must end it all the same.
    retryCount: name === "js_refuse" ? 2 : 0,
    timeoutSeconds: 60,
    responseTimeoutSeconds: 30,
    ownerEmail: "sdk-js@example.com",
  }));
}

export function workflowDefs(serviceUrl) {
  const def = (name, tasks, extra = {}) => ({
    name,
    version: 1,
    ownerEmail: "sdk-js@example.com",
    schemaVersion: 2,
    timeoutSeconds: 120,
    tasks,
    ...extra,
  });
  return [
    def("js_greeting", [simpleTask("greet", "js_greet", { name: "${workflow.input.name}" })], {
      outputParameters: { greeting: "${greet.output.greeting}" },
    }),
    def("js_routed_flow", [simpleTask("routed", "js_routed", {})]),
    def("js_waiting", [
      { name: "wait", taskReferenceName: "wait", type: "WAIT", inputParameters: {} },
      simpleTask("after", "js_greet", { name: "${wait.output.who}" }),
    ]),
    def("js_flaky_flow", [simpleTask("flaky", "js_flaky", {})]),
    def("js_slow_flow", [simpleTask("slow", "js_slow", {})]),
    def("js_refuse_flow", [simpleTask("refuse", "js_refuse", {})]),
    def("js_http_flat", [
      {
        name: "call",
        taskReferenceName: "call",
        type: "HTTP",
        // The flat form: the request's keys straight in inputParameters, no http_request.
        inputParameters: { uri: `${serviceUrl}/flat?id=\${workflow.input.id}`, method: "GET" },
      },
    ]),
    def("js_http_fan", [
      {
        name: "fan",
        taskReferenceName: "fan",
        type: "FORK_JOIN_DYNAMIC",
        inputParameters: {
          dynamicTasks: "${workflow.input.branches}",
          dynamicTasksInput: "${workflow.input.inputs}",
        },
        dynamicForkTasksParam: "dynamicTasks",
        dynamicForkTasksInputParamName: "dynamicTasksInput",
      },
      { name: "fan_join", taskReferenceName: "fan_join", type: "JOIN" },
    ]),
    def("js_references", [
      simpleTask("t1", "js_echo", { me: "${CPEWF_TASK_ID}" }),
      simpleTask("t2", "js_echo", { t1Started: "${t1.startTime}", t1Id: "${t1.taskId}" }),
    ]),
    def("js_lambda", [
      {
        name: "sum",
        taskReferenceName: "sum",
        type: "LAMBDA",
        inputParameters: {
          a: "${workflow.input.a}",
          b: "${workflow.input.b}",
          scriptExpression: "return {sum: $.a + $.b};",
        },
      },
    ]),
    def("js_exclusive", [
      switchTask("route", "${workflow.input.path}", {
        left: [inlineTask("left", "(function () { return 'went left'; })();")],
        right: [inlineTask("right", "(function () { return 'went right'; })();")],
      }),
      {
        name: "ejoin",
        taskReferenceName: "ejoin",
        type: "EXCLUSIVE_JOIN",
        joinOn: ["left", "right"],
        inputParameters: {},
      },
    ]),
  ];
}
