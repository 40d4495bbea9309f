// Keeps the overview current: the server sends the live part again as an "overview" event
// (server-sent events); the page reads fine without this script, it only does not update.
(function () {
  var live = document.getElementById('overview-live');
  if (!live || !window.EventSource) {
    return;
  }
  var events = new EventSource(live.getAttribute('data-stream'));
  events.addEventListener('overview', function (e) {
    live.innerHTML = e.data;
    live.setAttribute('data-updates', String(Number(live.getAttribute('data-updates') || 0) + 1));
  });
})();
