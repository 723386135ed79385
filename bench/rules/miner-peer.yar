/*
 * Peer rules for the scan benchmark: used by `yara` and `clamscan` only when nomine's own
 * data/signatures/rules/*.yar are absent, so the peers always do comparable string matching work.
 * Plain text strings and simple conditions only: ClamAV's YARA support has no modules and few operators.
 */
rule miner_stratum_protocol
{
  strings:
    $a = "stratum+tcp://" ascii
    $b = "mining.subscribe" ascii
    $c = "mining.submit" ascii
    $d = "mining.authorize" ascii
    $e = "\"jsonrpc\":\"2.0\"" ascii
  condition:
    2 of them
}

rule miner_xmrig_usage
{
  strings:
    $a = "--donate-level" ascii
    $b = "--cpu-priority" ascii
    $c = "randomx" ascii nocase
    $d = "cryptonight" ascii nocase
  condition:
    2 of them
}

rule miner_pool_hosts
{
  strings:
    $a = "minexmr.com" ascii
    $b = "slushpool.com" ascii
    $c = "supportxmr.com" ascii
    $d = "nanopool.org" ascii
    $e = "moneroocean.stream" ascii
  condition:
    any of them
}

rule miner_web_coinhive
{
  strings:
    $a = "CoinHive.Anonymous" ascii
    $b = "CryptoLoot.Anonymous" ascii
    $c = "coinhive.min.js" ascii
  condition:
    any of them
}
