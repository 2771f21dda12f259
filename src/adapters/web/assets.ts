// The dashboard's stylesheet and its one script (served from /static so the
// Content-Security-Policy can forbid inline scripts). The script listens to
// /events (SSE) and refreshes the page content when something changes.
export const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f2d3d;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#cfe3ff;margin-right:10px}header form.inline{margin-left:auto}
main{padding:12px 16px}table{border-collapse:collapse;width:100%;margin:6px 0 16px;background:#fff}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f0f2f5}
tr.gone td{color:#999}tr.acked td{color:#888}.muted{color:#888}.error{color:#b00}
.badge{display:inline-block;padding:1px 6px;border-radius:8px;font-size:12px;color:#fff;background:#999}
.sev-info{background:#8a8f98}.sev-low{background:#3a7bd5}.sev-medium{background:#d59b00}.sev-high{background:#d55a00}.sev-critical{background:#b00020}
.live{font-size:12px;color:#9fd39f}.toast{position:fixed;right:12px;bottom:12px;background:#1f2d3d;color:#fff;padding:8px 12px;border-radius:6px;max-width:420px}
pre{background:#fff;border:1px solid #ddd;padding:8px;overflow:auto;max-height:300px}svg.chart{background:#fff;border:1px solid #ddd}
form.login{display:flex;gap:8px;align-items:center}
`;

export const APP_JS = `
(function(){
  if(!window.EventSource||location.pathname==='/login')return;
  var live=document.getElementById('live');
  var es=new EventSource('/events');
  var timer=null;
  function refresh(){
    if(timer)return;
    timer=setTimeout(function(){timer=null;
      fetch(location.href,{credentials:'same-origin'}).then(function(r){return r.text();}).then(function(t){
        var d=new DOMParser().parseFromString(t,'text/html');var m=d.getElementById('main');
        if(m)document.getElementById('main').innerHTML=m.innerHTML;
      }).catch(function(){});
    },500);
  }
  es.onopen=function(){if(live)live.textContent='live';};
  es.onerror=function(){if(live)live.textContent='reconnecting...';};
  es.addEventListener('alert',function(ev){
    try{var a=JSON.parse(ev.data);var t=document.createElement('div');t.className='toast';t.textContent='['+a.severity+'] '+a.title;
      document.body.appendChild(t);setTimeout(function(){t.remove();},6000);}catch(e){}
    refresh();
  });
  es.addEventListener('devices',refresh);
  es.addEventListener('ack',refresh);
})();
`;
