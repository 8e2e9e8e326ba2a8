// Password hashes made by Dovecot's own `doveadm pw -s <SCHEME> -p 'pässwörd x'`
// (Dovecot 2.3, Debian 12), plus mkpasswd(1) and `openssl passwd`, for the same password.
export const PASSWORD = 'pässwörd x';

export const DOVEADM: string[] = [
  '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$v7xlJiUvaT0kvEUws6Ffpw$FgFhOjBNIWrrHPIH/7gcoEE58nib8z7WNVIQIdTTf2k',
  '{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$14KB/VPBTLfxqCI7ggEdrw$IfMoB75ms9/T3vGQzRAA1IbRlrKnJGPpyUa2ZUnZViQ',
  '{BLF-CRYPT}$2y$05$bOdIwYcboe9/yYSqi0MSQen7akv0jbaATwtNftvdaONlQGjuuskny',
  '{SHA512-CRYPT}$6$FkRzb6usQqd5uOij$qv1clqAzBVcLaR/icvVPz1U/LLcsy8n17NtRM91YrLunOa07UuHoVcs5YP.KHbtag7taAn8K7dn0du8WP5BAU/',
  '{SHA512-CRYPT}$6$rounds=7000$Glm/q7gcm0KgqBdD$GshA92hhAG0h65Rtmedrh9vrTGWG0XZ76fDP1VOWa2bIBk036Y.mVIUUpwVjX7APN/xfKTi9rNZ34lBxbgZmP1',
  '{SHA256-CRYPT}$5$zrT1RW4yttMLUP3.$GzAyMH/QBaBXyMbhL4suDxYjQor31bc8N10TvV7XXx0',
  '{SHA256-CRYPT}$5$rounds=8000$f7f180zyNoHqMZgt$2SvsoIp6SY96XGS5CS3smreYfWMokT.Z2hfUpKBUwr7',
  '{CRYPT}$2y$05$sP2L4ICadtitqMacPBtimuJ06vWu0CNBj6.Xpq7OQx3wPrST/Je0C',
  '{SSHA512}8fyA8R9Mw8D+kSPp6e4Zcepk0OraNKQWftpjgrhA/8cdhu+qsXNk+hBR/IaQqB1ehxuC49DpJBVI/CyDN6a7wZVmeas=',
  '{SHA512}8hhdfF8OgYKYbA3l9R6HQeA02w+X5AfgFobUPmGGTyhCL7KZD7guqms41joytc/+Rs+WXnjvtHa2CeZrP0gCTg==',
  '{SSHA256}1CywKaK+uo/TXSyyncZ0kb/hlkfgDolvyDgGAB8SW6+cCHpf',
  '{SHA256}178CRy+sT6eJYhpBbe3+/KG/DxWIsq8A+jy+JjPg4cI=',
  '{SHA1}VHsYLU/uCAarQaTN4WZVsim3X3A=',
  '{SSHA}V/DSxCedxMgWIPC5U06av+iiAQGsNk+q',
  '{CLEARTEXT}pässwörd x',
  '{PLAIN}pässwörd x',
  '{CLEAR}pässwörd x',
  '{SHA512-CRYPT.HEX}24362472533951456b387479725a667149546124375a6b4b6b33546278675a374e475563534d3272426f32467a2f4168355078354648396843686f384f55433962522e52765476572e586b6953694f654c4b6a4670497266546f6e352f7041634878584d436543507030',
  '{SSHA512.HEX}43f4382ba435b577741564505fc9fa333dbb255f85072177d82b5e516012afe7d7a176c2eea383ab19e2fc091a3691659fd7e13761f32e846f063783e7a3de1a86150606',
  '{SHA256.HEX}d7bf02472fac4fa789621a416dedfefca1bf0f1588b2af00fa3cbe2633e0e1c2',
  '{PLAIN.B64}cMOkc3N3w7ZyZCB4',
];

/** glibc crypt(3) hashes made outside Dovecot; a passwd-file line without {SCHEME} is CRYPT. */
export const OTHER_TOOLS: string[] = [
  '{SHA512-CRYPT}$6$abcdefgh$NpsGD6R.X1YKirLFY/uvwMhdbMwmgAqp/lUvHfKOz0V23K7HdHdV/RRCph4ZZVaxJnvm/1GGRPav472qFMOS30', // openssl passwd -6
  '{SHA256-CRYPT}$5$abcdefgh$MqJOoNp1b9/83OZF2925cKx0Dp9jyEim7IfomtyCFM0', // openssl passwd -5
  '$6$abcdefghijklmnop$lZQaA8jmmQ9zB4AQCuyVn4tSQ28rzddDLWVWGY5NBDG9gmen8nBS.WYg47F7XizhzGfdRZ0A4idMWnS27Py/n0', // mkpasswd -m sha-512
  '$6$rounds=6000$saltsaltsalt$qDOYLZ7WyGFo0UxFUj50oHfGR5jZUoEK9MKWfGqPZfC298o86QNIBgCJFhlycGY2Safjq4B.xmBB4mcIAlqRN.', // mkpasswd -R 6000
  '$5$rounds=10000$abcdefghijklmnop$pLqo6X3D9odkO5CO9/eK6gd/35mWESPxZ3kl7/iaqz2', // mkpasswd -m sha-256 -R 10000
  '{BLF-CRYPT}$2b$05$RJ91HtKT2YMGo1fhhVU20urKPuE1Ifk.ThpoHFLoWlnnTB2o/9CEy', // mkpasswd -m bcrypt
];

/** Schemes Dovecot has that we refuse (fail closed). */
export const UNSUPPORTED: string[] = [
  '{MD5-CRYPT}$1$X91XYhxp$WgCh12Bc2zz16kRe3OEq1/',
  '{PBKDF2}$1$mkwYmspiCltjEpcs$5000$994dc295819db6088cde9b34e1c3f92bad99acc3',
  '{CRYPT}eMxn.ApfrbmdI', // DES, mkpasswd -m des
  '$1$X91XYhxp$WgCh12Bc2zz16kRe3OEq1/',
];
