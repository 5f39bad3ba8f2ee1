-- wrk script: POSTs sms_http-shaped JSON bodies with distinct ids to bench_gateway.
--   wrk -t1 -c32 -d10s -s bench/gateway/wrk_post_sms.lua http://127.0.0.1:PORT/sms
-- Each wrk thread numbers its own ids (thread number + counter), so no two
-- requests of a run share one and the gateway's duplicates stay 0.
local counter = 0
local prefix = ""
local threads = 0

function setup(thread)
  thread:set("prefix", string.format("%08x", threads))
  threads = threads + 1
end

local text = "【华泰证券】您关注的贵州茅台(600519)今日收盘价1688.00元，涨幅2.35%，成交额58.2亿元。市场有风险，投资需谨慎。回T退订"

function request()
  counter = counter + 1
  local body = string.format('{"id":"%s%024x","to":"+8613800138000","text":"%s"}', prefix, counter, text)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
