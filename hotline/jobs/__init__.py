"""Background jobs on an in-process queue or RQ/Redis, and the supervision loop.

Job functions are plain module functions ``async def job(ctx, *ids)`` (see
:mod:`hotline.jobs.tasks`); queues call them with a :class:`JobContext`.
"""
