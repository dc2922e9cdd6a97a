from podium.worker import worker_task


@worker_task("hello")
def hello(who: str) -> dict[str, str]:
    return {"message": f"Hello, {who}!"}
