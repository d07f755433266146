"""The segment cache's index scripts: the Lua that keeps the Redis index of
``orchestrator.segment_cache`` consistent when workers put, pin, touch and evict at once.

Each script runs atomically in Redis, so two workers indexing at once never both keep the cache
over its cap or evict the same entry twice.
"""

from __future__ import annotations

#: Index an entry (logical time now) and pick least-recently-used victims until the total is
#: within the cap, passing over entries pinned by a running job (until their deadline); the new
#: entry goes last, and only if it is still over the cap. Returns the victims, already out of
#: the index. KEYS: lru, sizes, stats, pins. ARGV: key, size, max_bytes, now (unix seconds).
PUT = """
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[4])
local old = tonumber(redis.call('HGET', KEYS[2], ARGV[1]))
local size = tonumber(ARGV[2])
local clock = redis.call('HINCRBY', KEYS[3], 'clock', 1)
redis.call('HSET', KEYS[2], ARGV[1], size)
redis.call('ZADD', KEYS[1], clock, ARGV[1])
local total = redis.call('HINCRBY', KEYS[3], 'bytes', size - (old or 0))
local limit = tonumber(ARGV[3])
local victims = {}
if total > limit then
    for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
        if total <= limit then break end
        if member ~= ARGV[1] and not redis.call('ZSCORE', KEYS[4], member) then
            local bytes = tonumber(redis.call('HGET', KEYS[2], member)) or 0
            redis.call('HDEL', KEYS[2], member)
            redis.call('ZREM', KEYS[1], member)
            total = redis.call('HINCRBY', KEYS[3], 'bytes', -bytes)
            table.insert(victims, member)
        end
    end
    if total > limit then
        redis.call('HDEL', KEYS[2], ARGV[1])
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HINCRBY', KEYS[3], 'bytes', -size)
        table.insert(victims, ARGV[1])
    end
end
return victims
"""

#: Pin entries against eviction until a deadline (the later one, when pinned twice).
#: KEYS: pins. ARGV: deadline (unix seconds), keys.
PIN = """
for i = 2, #ARGV do
    local held = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i]))
    if not held or held < tonumber(ARGV[1]) then
        redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
    end
end
return #ARGV - 1
"""

#: Mark indexed entries as just used, in the order given. KEYS: lru, stats. ARGV: keys.
TOUCH = """
local touched = 0
for _, member in ipairs(ARGV) do
    if redis.call('ZSCORE', KEYS[1], member) then
        local clock = redis.call('HINCRBY', KEYS[2], 'clock', 1)
        redis.call('ZADD', KEYS[1], clock, member)
        touched = touched + 1
    end
end
return touched
"""

#: Index entries found in storage, oldest first, without evicting anything (a rebuild only
#: reads: the next put evicts). An entry already indexed keeps its place, since a job may have
#: used it meanwhile. KEYS: lru, sizes, stats. ARGV: key, size, key, size, ...
ADD = """
local added = 0
for i = 1, #ARGV, 2 do
    if not redis.call('HGET', KEYS[2], ARGV[i]) then
        local clock = redis.call('HINCRBY', KEYS[3], 'clock', 1)
        redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
        redis.call('ZADD', KEYS[1], clock, ARGV[i])
        redis.call('HINCRBY', KEYS[3], 'bytes', tonumber(ARGV[i + 1]))
        added = added + 1
    end
end
return added
"""

#: Drop entries from the index. KEYS: lru, sizes, stats. ARGV: keys. Returns how many.
FORGET = """
local dropped = 0
for _, member in ipairs(ARGV) do
    local bytes = tonumber(redis.call('HGET', KEYS[2], member))
    if bytes then
        redis.call('HDEL', KEYS[2], member)
        redis.call('ZREM', KEYS[1], member)
        redis.call('HINCRBY', KEYS[3], 'bytes', -bytes)
        dropped = dropped + 1
    end
end
return dropped
"""


#: Let go of a put claim if it is still this writer's. KEYS: claim. ARGV: token.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""
